// The `forwarder` section as plain data (its sink is sink.ts); the forwarder creates what it describes.
import { ConfigError } from '../errors/errors';
import { configLogger, diagLogger } from '../logging/logger';
import type { Logger } from '../logging/logger';
import type { ResolvedSinkConfig } from '../sinks/create-sink';
import { DEFAULTS } from './defaults';
import { ENV, EnvReader } from './env';
import { resolveSinkConfig } from './sink';
import type { OnUndeliverable } from './types';
import { checkNumber, checkOneOf, checkRoot, checkSection, checkString, checkTopic, topicParser } from './validators';

const UNDELIVERABLE: readonly OnUndeliverable[] = ['dead-letter', 'block', 'drop'];

/** The resolved `forwarder` section, as plain data. */
export interface ResolvedForwarderSettings {
  /** Consumer group id. */
  groupId: string;
  /** Where spans go. */
  sink: ResolvedSinkConfig;
  /** The dead-letter topic. */
  deadLetterTopic: string;
  /** What happens to a record that can never be delivered. */
  onUndeliverable: OnUndeliverable;
  /** Most records in one sink request. */
  maxRecords: number;
  /** Most value bytes in one sink request. */
  maxBytes: number;
  /** How long a record may wait for more to fill its batch. */
  lingerMillis: number;
  /** Sink requests in flight at once. */
  maxInFlightRequests: number;
  /** Bound on fetched, undelivered record bytes. */
  maxBufferedBytes: number;
  /** How often accepted offsets are committed. */
  commitIntervalMillis: number;
  /** How long `stop()` drains in-flight work. */
  stopTimeoutMillis: number;
}

/** The `forwarder` section as plain data; `topic` is the resolved `kafka.topic`. */
export function resolveForwarderSettings(
  config: unknown,
  topic: string,
  env: NodeJS.ProcessEnv = process.env,
  logger: Logger = diagLogger,
): ResolvedForwarderSettings {
  const root = checkRoot(config);
  const f = checkSection('forwarder', root.forwarder);
  const e = new EnvReader(env, configLogger(logger));
  const d = DEFAULTS.forwarder;
  const dl = checkSection('forwarder.deadLetter', f.deadLetter);

  const mode = checkOneOf('forwarder.onUndeliverable', f.onUndeliverable, UNDELIVERABLE);
  const dlMode = checkOneOf('forwarder.deadLetter.onUndeliverable', dl.onUndeliverable, UNDELIVERABLE);
  if (mode && dlMode && mode !== dlMode) {
    throw new ConfigError(
      'forwarder.onUndeliverable',
      `'${mode}' contradicts forwarder.deadLetter.onUndeliverable '${dlMode}'; set one of them`,
    );
  }
  const deadLetterTopic =
    checkTopic('forwarder.deadLetter.topic', dl.topic) ??
    e.read(ENV.forwarderDeadLetterTopic, topicParser) ??
    `${topic}.dlq`.slice(0, 249);
  if (deadLetterTopic === topic) {
    throw new ConfigError('forwarder.deadLetter.topic', `must differ from kafka.topic ('${topic}')`);
  }

  const groupId = checkString('forwarder.groupId', f.groupId) ?? e.string(ENV.forwarderGroupId) ?? d.groupId;

  return {
    groupId,
    sink: resolveSinkConfig(f.sink, e),
    deadLetterTopic,
    onUndeliverable: mode ?? dlMode ?? d.onUndeliverable,
    ...resolveBatch(checkSection('forwarder.batch', f.batch)),
    maxInFlightRequests:
      checkNumber('forwarder.maxInFlightRequests', f.maxInFlightRequests, { min: 1, max: 64, integer: true }) ??
      d.maxInFlightRequests,
    maxBufferedBytes:
      checkNumber('forwarder.maxBufferedBytes', f.maxBufferedBytes, {
        min: 1024 * 1024,
        max: 2 ** 40,
        integer: true,
      }) ?? d.maxBufferedBytes,
    commitIntervalMillis:
      checkNumber('forwarder.commitIntervalMillis', f.commitIntervalMillis, { min: 10, max: 600_000 }) ??
      d.commitIntervalMillis,
    stopTimeoutMillis:
      checkNumber('forwarder.stopTimeoutMillis', f.stopTimeoutMillis, { min: 0, max: 3_600_000 }) ??
      d.stopTimeoutMillis,
  };
}

function resolveBatch(b: Record<string, unknown>): { maxRecords: number; maxBytes: number; lingerMillis: number } {
  const d = DEFAULTS.forwarder;
  return {
    maxRecords:
      checkNumber('forwarder.batch.maxRecords', b.maxRecords, { min: 1, max: 1_000_000, integer: true }) ??
      d.maxRecords,
    maxBytes:
      checkNumber('forwarder.batch.maxBytes', b.maxBytes, { min: 1024, max: 2 ** 31 - 1, integer: true }) ?? d.maxBytes,
    lingerMillis:
      checkNumber('forwarder.batch.lingerMillis', b.lingerMillis, { min: 0, max: 60_000 }) ?? d.lingerMillis,
  };
}
