import { createNoopMeter } from '@opentelemetry/api';
import type { Meter, MeterProvider } from '@opentelemetry/api';

import { ConfigError } from '../errors/errors';
import { diagLogger } from '../logging/logger';
import type { Logger } from '../logging/logger';
import { exponentialBackoff } from '../retry/exponential-backoff';
import type { RetryPolicy } from '../retry/retry-policy';
import { otlpJsonSerializer, otlpProtoSerializer } from '../serializers/otlp-serializers';
import type { SpanSerializer } from '../serializers/span-serializer';
import { otlpHttpSink } from '../sinks/otlp-http-sink';
import { otlpGrpcSink } from '../sinks/otlp-grpc-sink';
import { jaegerThriftHttpSink } from '../sinks/jaeger-thrift-http-sink';
import type { Sink } from '../sinks/sink';
import { booleanValue, brokerList, brokerProblem, ENV, EnvReader, oneOf, positiveMillis } from './env';
import type {
  Compression,
  OnUndeliverable,
  OtelKafkaJaegerConfig,
  RdKafkaValue,
  SaslMechanism,
  SecurityProtocol,
} from './types';

/** Defaults of every option, in one place (the TSDoc `@defaultValue`s say the same). */
export const DEFAULTS = {
  topic: 'otlp_spans',
  clientId: 'otel-kafka-jaeger',
  exporter: {
    timeoutMillis: 10_000,
    partitionByTraceId: true,
    compression: 'none' as Compression,
    maxMessageBytes: 1_000_000,
    lingerMillis: 0,
    maxQueueBytes: 64 * 1024 * 1024,
  },
  forwarder: {
    groupId: 'otel-kafka-jaeger',
    sinkUrl: 'http://localhost:4318/v1/traces',
    onUndeliverable: 'dead-letter' as OnUndeliverable,
    maxRecords: 2_000,
    maxBytes: 4 * 1024 * 1024,
    lingerMillis: 20,
    maxInFlightRequests: 2,
    maxBufferedBytes: 64 * 1024 * 1024,
    commitIntervalMillis: 1_000,
    stopTimeoutMillis: 10_000,
  },
} as const;

const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const PROTOCOLS: readonly SecurityProtocol[] = ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'];
const MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];
const TOPIC_PATTERN = /^[a-zA-Z0-9._-]{1,249}$/;
const UNDELIVERABLE: readonly OnUndeliverable[] = ['dead-letter', 'block', 'drop'];

export interface ResolvedTls {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  keyPassword?: string;
  rejectUnauthorized: boolean;
}

export interface ResolvedSasl {
  mechanism: SaslMechanism;
  username: string;
  password: string;
}

export interface ResolvedKafkaConfig {
  brokers: string[];
  topic: string;
  clientId: string;
  securityProtocol: SecurityProtocol;
  tls: ResolvedTls | undefined;
  sasl: ResolvedSasl | undefined;
  rdkafka: Record<string, RdKafkaValue>;
}

export interface ResolvedExporterConfig {
  timeoutMillis: number;
  partitionByTraceId: boolean;
  compression: Compression;
  maxMessageBytes: number;
  lingerMillis: number;
  maxQueueBytes: number;
}

export interface ResolvedForwarderConfig {
  groupId: string;
  sink: Sink;
  deadLetterTopic: string;
  onUndeliverable: OnUndeliverable;
  maxRecords: number;
  maxBytes: number;
  lingerMillis: number;
  maxInFlightRequests: number;
  maxBufferedBytes: number;
  commitIntervalMillis: number;
  stopTimeoutMillis: number;
  retry: RetryPolicy;
}

export interface ResolvedCommon {
  logger: Logger;
  meter: Meter;
  serializer: SpanSerializer;
  serializerName: string;
}

// ---------------------------------------------------------------------------------------- validators

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  return `a ${typeof v}`;
}

function checkSection(field: string, v: unknown): Record<string, unknown> {
  if (v === undefined) return {};
  if (!isObject(v)) throw new ConfigError(field, `expected an object, got ${describe(v)}`);
  return v;
}

function checkString(field: string, v: unknown, opts: { secret?: boolean } = {}): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') {
    throw new ConfigError(field, `expected a non-empty string${opts.secret ? '' : `, got ${describe(v)}`}`);
  }
  return v;
}

function checkBoolean(field: string, v: unknown): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new ConfigError(field, `expected true or false, got ${describe(v)}`);
  return v;
}

function checkOneOf<T extends string>(field: string, v: unknown, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(field, `expected one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(v)}`);
  }
  return v as T;
}

/** A finite number within [min, max]; `integer` requires a whole number. */
export function checkNumber(
  field: string,
  v: unknown,
  opts: { min: number; max?: number; integer?: boolean; exclusiveMin?: boolean },
): number | undefined {
  if (v === undefined) return undefined;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const okMin = typeof v === 'number' && (opts.exclusiveMin ? v > opts.min : v >= opts.min);
  if (typeof v !== 'number' || !Number.isFinite(v) || !okMin || v > max || (opts.integer && !Number.isInteger(v))) {
    const kind = opts.integer ? 'an integer' : 'a number';
    const low = opts.exclusiveMin ? `> ${opts.min}` : `>= ${opts.min}`;
    throw new ConfigError(field, `expected ${kind} ${low} and <= ${max}, got ${describe(v)}`);
  }
  return v;
}

function isTopicName(name: string): boolean {
  return TOPIC_PATTERN.test(name) && name !== '.' && name !== '..';
}

const topicParser = (raw: string): { value: string } | { error: string } =>
  isTopicName(raw) ? { value: raw } : { error: 'expected 1-249 characters of [a-zA-Z0-9._-]' };

function checkTopic(field: string, v: unknown): string | undefined {
  const topic = checkString(field, v);
  if (topic !== undefined && !isTopicName(topic)) {
    throw new ConfigError(field, `${describe(topic)} is not a valid Kafka topic name (1-249 of [a-zA-Z0-9._-])`);
  }
  return topic;
}

// ------------------------------------------------------------------------------------------ sections

function checkRoot(config: unknown): OtelKafkaJaegerConfig {
  if (config === undefined) return {};
  if (!isObject(config)) throw new ConfigError('config', `expected an object, got ${describe(config)}`);
  return config;
}

/** The logger, meter and serializer shared by every component. */
export function resolveCommon(config: unknown): ResolvedCommon {
  const c = checkRoot(config);
  const logger = resolveLogger(c.logger);
  const meter = resolveMeter(c.meterProvider);
  const serializer = c.serializer ?? 'otlp_proto';
  if (serializer === 'otlp_proto')
    return { logger, meter, serializer: otlpProtoSerializer(), serializerName: serializer };
  if (serializer === 'otlp_json')
    return { logger, meter, serializer: otlpJsonSerializer(), serializerName: serializer };
  if (
    isObject(serializer) &&
    typeof serializer.serialize === 'function' &&
    typeof serializer.contentType === 'string' &&
    serializer.contentType !== ''
  ) {
    return { logger, meter, serializer, serializerName: 'custom' };
  }
  throw new ConfigError(
    'serializer',
    `expected 'otlp_proto', 'otlp_json' or an object with contentType and serialize(spans), got ${describe(serializer)}`,
  );
}

function resolveLogger(logger: unknown): Logger {
  if (logger === undefined) return diagLogger;
  const ok =
    isObject(logger) && (['debug', 'info', 'warn', 'error'] as const).every((m) => typeof logger[m] === 'function');
  if (!ok) throw new ConfigError('logger', 'expected an object with debug, info, warn and error functions');
  return logger as unknown as Logger;
}

function resolveMeter(provider: unknown): Meter {
  if (provider === undefined) return createNoopMeter();
  if (!isObject(provider) || typeof provider.getMeter !== 'function') {
    throw new ConfigError('meterProvider', 'expected an OpenTelemetry MeterProvider (an object with getMeter)');
  }
  return (provider as unknown as MeterProvider).getMeter('otel-kafka-jaeger');
}

/** The `kafka` section: brokers, topic, client id, security, passthrough. */
export function resolveKafkaConfig(
  config: unknown,
  env: NodeJS.ProcessEnv = process.env,
  logger: Logger = diagLogger,
): ResolvedKafkaConfig {
  const k = checkSection('kafka', checkRoot(config).kafka);
  const e = new EnvReader(env, logger);

  let brokers: string[] | undefined;
  if (k.brokers !== undefined) {
    if (!Array.isArray(k.brokers) || k.brokers.length === 0) {
      throw new ConfigError(
        'kafka.brokers',
        `expected a non-empty array of 'host:port' strings, got ${describe(k.brokers)}`,
      );
    }
    brokers = k.brokers.map((b: unknown, i) => {
      const problem = typeof b === 'string' ? brokerProblem(b) : 'not a string';
      if (problem !== undefined) throw new ConfigError(`kafka.brokers[${i}]`, `${describe(b)}: ${problem}`);
      return b as string;
    });
  }
  brokers ??= e.read(ENV.brokers, brokerList);
  if (!brokers) {
    throw new ConfigError('kafka.brokers', `required: set kafka.brokers or ${ENV.brokers} (e.g. '127.0.0.1:9092')`);
  }

  let topic = checkString('kafka.topic', k.topic);
  if (topic !== undefined && 'error' in topicParser(topic)) {
    throw new ConfigError(
      'kafka.topic',
      `${describe(topic)} is not a valid Kafka topic name (1-249 of [a-zA-Z0-9._-])`,
    );
  }
  topic ??= e.read(ENV.topic, topicParser) ?? DEFAULTS.topic;

  const clientId = checkString('kafka.clientId', k.clientId) ?? e.string(ENV.clientId) ?? DEFAULTS.clientId;

  // TLS: code object/boolean, else the environment's certificate paths.
  let tls: ResolvedTls | undefined;
  if (k.ssl !== undefined && k.ssl !== false) {
    const s = k.ssl === true ? {} : checkSection('kafka.ssl', k.ssl);
    tls = {
      caFile: checkString('kafka.ssl.caFile', s.caFile) ?? e.string(ENV.certificate),
      certFile: checkString('kafka.ssl.certFile', s.certFile) ?? e.string(ENV.clientCertificate),
      keyFile: checkString('kafka.ssl.keyFile', s.keyFile) ?? e.string(ENV.clientKey),
      keyPassword: checkString('kafka.ssl.keyPassword', s.keyPassword, { secret: true }),
      rejectUnauthorized: checkBoolean('kafka.ssl.rejectUnauthorized', s.rejectUnauthorized) ?? true,
    };
  } else if (k.ssl === undefined) {
    const caFile = e.string(ENV.certificate);
    const certFile = e.string(ENV.clientCertificate);
    const keyFile = e.string(ENV.clientKey);
    if (caFile || certFile || keyFile) tls = { caFile, certFile, keyFile, rejectUnauthorized: true };
  }

  let sasl: ResolvedSasl | undefined;
  const s = checkSection('kafka.sasl', k.sasl);
  const mechanism =
    checkOneOf('kafka.sasl.mechanism', s.mechanism, MECHANISMS) ?? e.read(ENV.saslMechanism, oneOf(MECHANISMS));
  const username = checkString('kafka.sasl.username', s.username) ?? e.string(ENV.saslUsername);
  const password = checkString('kafka.sasl.password', s.password, { secret: true }) ?? e.string(ENV.saslPassword);
  if (k.sasl !== undefined || mechanism || username || password) {
    if (!username) throw new ConfigError('kafka.sasl.username', `required with SASL (or set ${ENV.saslUsername})`);
    if (!password) throw new ConfigError('kafka.sasl.password', `required with SASL (or set ${ENV.saslPassword})`);
    sasl = { mechanism: mechanism ?? 'plain', username, password };
  }

  const derived: SecurityProtocol = sasl ? (tls ? 'sasl_ssl' : 'sasl_plaintext') : tls ? 'ssl' : 'plaintext';
  const securityProtocol =
    checkOneOf('kafka.securityProtocol', k.securityProtocol, PROTOCOLS) ??
    e.read(ENV.securityProtocol, oneOf(PROTOCOLS)) ??
    derived;

  const rdkafka = checkSection('kafka.rdkafka', k.rdkafka);
  for (const [key, value] of Object.entries(rdkafka)) {
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      throw new ConfigError(`kafka.rdkafka['${key}']`, `expected a string, number or boolean, got ${describe(value)}`);
    }
  }

  return {
    brokers,
    topic,
    clientId,
    securityProtocol,
    tls,
    sasl,
    rdkafka: rdkafka as Record<string, RdKafkaValue>,
  };
}

/** The `exporter` section. */
export function resolveExporterConfig(
  config: unknown,
  env: NodeJS.ProcessEnv = process.env,
  logger: Logger = diagLogger,
): ResolvedExporterConfig {
  const x = checkSection('exporter', checkRoot(config).exporter);
  const e = new EnvReader(env, logger);
  const d = DEFAULTS.exporter;
  const maxMessageBytes =
    checkNumber('exporter.maxMessageBytes', x.maxMessageBytes, { min: 1024, max: 1_000_000_000, integer: true }) ??
    d.maxMessageBytes;
  const maxQueueBytes =
    checkNumber('exporter.maxQueueBytes', x.maxQueueBytes, { min: 1024 * 1024, max: 2 ** 31 - 1, integer: true }) ??
    d.maxQueueBytes;
  if (maxQueueBytes < maxMessageBytes) {
    throw new ConfigError('exporter.maxQueueBytes', `must be at least exporter.maxMessageBytes (${maxMessageBytes})`);
  }
  return {
    timeoutMillis:
      checkNumber('exporter.timeoutMillis', x.timeoutMillis, { min: 0, exclusiveMin: true, max: 2 ** 31 - 1 }) ??
      e.read(ENV.timeout, positiveMillis) ??
      d.timeoutMillis,
    partitionByTraceId:
      checkBoolean('exporter.partitionByTraceId', x.partitionByTraceId) ??
      e.read(ENV.partitionByTraceId, booleanValue) ??
      d.partitionByTraceId,
    compression:
      checkOneOf('exporter.compression', x.compression, COMPRESSIONS) ??
      e.read(ENV.compression, oneOf(COMPRESSIONS)) ??
      d.compression,
    maxMessageBytes,
    lingerMillis: checkNumber('exporter.lingerMillis', x.lingerMillis, { min: 0, max: 900_000 }) ?? d.lingerMillis,
    maxQueueBytes,
  };
}

/** The `retry` option as a policy: a policy object as is, options through `exponentialBackoff()`. */
export function resolveRetryPolicy(config: unknown, field = 'retry'): RetryPolicy {
  const r = (checkRoot(config) as Record<string, unknown>)[field];
  if (r === undefined) return exponentialBackoff({}, field);
  if (isObject(r) && typeof r.nextDelay === 'function') return r as unknown as RetryPolicy;
  if (!isObject(r)) throw new ConfigError(field, `expected backoff options or a RetryPolicy, got ${describe(r)}`);
  return exponentialBackoff(r, field);
}

/** The `forwarder` section (plus the shared `retry` policy); `topic` is the resolved `kafka.topic`. */
export function resolveForwarderConfig(
  config: unknown,
  topic: string,
  env: NodeJS.ProcessEnv = process.env,
  logger: Logger = diagLogger,
): ResolvedForwarderConfig {
  const root = checkRoot(config);
  const f = checkSection('forwarder', root.forwarder);
  const e = new EnvReader(env, logger);
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
    sink: resolveSink(f.sink, e),
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
    retry: resolveRetryPolicy(root),
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

function resolveSink(sink: unknown, e: EnvReader): Sink {
  const envUrl = e.string(ENV.forwarderSinkUrl);
  if (sink === undefined) {
    return otlpHttpSink({ url: envUrl ?? DEFAULTS.forwarder.sinkUrl }, 'forwarder.sink');
  }
  if (!isObject(sink))
    throw new ConfigError('forwarder.sink', `expected a sink config or a Sink, got ${describe(sink)}`);
  if (typeof sink.send === 'function') {
    if (typeof sink.close !== 'function') throw new ConfigError('forwarder.sink', 'a Sink needs send() and close()');
    if (typeof sink.name !== 'string') throw new ConfigError('forwarder.sink', 'a Sink needs a name');
    return sink as unknown as Sink;
  }
  const { type, ...options } = sink;
  // Each sink validates its own options, naming the field; an unset URL falls back to the environment, then
  // to the sink's own default.
  const url = options.url ?? envUrl;
  const withUrl = url === undefined ? options : { ...options, url };
  if (type === 'otlp-http') return otlpHttpSink(withUrl, 'forwarder.sink');
  if (type === 'otlp-grpc') return otlpGrpcSink(withUrl, 'forwarder.sink');
  if (type === 'jaeger-thrift-http') return jaegerThriftHttpSink(withUrl, 'forwarder.sink');
  throw new ConfigError(
    'forwarder.sink.type',
    `expected 'otlp-http', 'otlp-grpc', 'jaeger-thrift-http' or a Sink object, got ${describe(type)}`,
  );
}
