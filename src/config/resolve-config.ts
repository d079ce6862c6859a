import type { Meter, MeterProvider } from '@opentelemetry/api';

import { ConfigError } from '../errors/errors';
import { configLogger, diagLogger } from '../logging/logger';
import type { Logger } from '../logging/logger';
import { checkProducerOverrides } from '../kafka/producer-overrides';
import { globalMeter } from '../metrics/global-meter';
import { EXPONENTIAL_BACKOFF_DEFAULTS, exponentialBackoff } from '../retry/exponential-backoff';
import type { ExponentialBackoffOptions } from '../retry/exponential-backoff';
import type { RetryPolicy } from '../retry/retry-policy';
import { otlpJsonSerializer, otlpProtoSerializer } from '../serializers/otlp-serializers';
import type { SpanSerializer } from '../serializers/span-serializer';
import { resolveHeaders as checkHttpHeaders } from '../sinks/http-transport';
import { otlpHttpSink } from '../sinks/otlp-http-sink';
import { otlpGrpcSink, resolveHeaders as checkGrpcMetadata } from '../sinks/otlp-grpc-sink';
import { jaegerThriftHttpSink } from '../sinks/jaeger-thrift-http-sink';
import type { Sink } from '../sinks/sink';
import {
  booleanValue,
  brokerList,
  brokerProblem,
  ENV,
  ENV_OLD_NAMES,
  EnvReader,
  headerList,
  oneOf,
  positiveMillis,
} from './env';
import { unknownConfigFields } from './unknown-keys';
import type {
  Compression,
  MessagePer,
  OnUndeliverable,
  OtelKafkaJaegerConfig,
  RdKafkaValue,
  SaslMechanism,
  SecurityProtocol,
  SerializerName,
  SpoolFsync,
} from './types';

/**
 * The smallest `exporter.maxMessageBytes` (and passthrough `message.max.bytes`): every message keeps room for
 * its key, headers and record framing, and still has a few KiB for spans.
 */
export const MIN_MESSAGE_BYTES = 4096;
const MAX_MESSAGE_BYTES = 1_000_000_000;
const MAX_TIMER_MILLIS = 2 ** 31 - 1;

/** Defaults of every option, in one place (the TSDoc `@defaultValue`s say the same). */
export const DEFAULTS = {
  topic: 'otlp_spans',
  clientId: 'otel-kafka-jaeger',
  connectTimeoutMillis: 10_000,
  exporter: {
    timeoutMillis: 10_000,
    messagePer: 'partition' as MessagePer,
    compression: 'none' as Compression,
    maxMessageBytes: 1_000_000,
    lingerMillis: 0,
    maxQueueBytes: 64 * 1024 * 1024,
  },
  /** `exporter.spool`'s, once it is on (it is off by default). */
  spool: {
    maxBytes: 256 * 1024 * 1024,
    fsync: 'batch' as SpoolFsync,
    segmentBytes: 16 * 1024 * 1024,
    drainBytesPerSecond: 8 * 1024 * 1024,
  },
  forwarder: {
    groupId: 'otel-kafka-jaeger',
    onUndeliverable: 'dead-letter' as OnUndeliverable,
    maxRecords: 2_000,
    maxBytes: 4 * 1024 * 1024,
    lingerMillis: 20,
    maxInFlightRequests: 2,
    maxBufferedBytes: 64 * 1024 * 1024,
    commitIntervalMillis: 1_000,
    stopTimeoutMillis: 10_000,
  },
  /** The built-in sinks' defaults (the sinks apply the same when created directly). */
  sink: {
    urls: {
      'otlp-http': 'http://localhost:4318/v1/traces',
      'otlp-grpc': 'http://localhost:4317',
      'jaeger-thrift-http': 'http://localhost:14268/api/traces',
    },
    timeoutMillis: 10_000,
    compression: 'none' as const,
    encoding: 'protobuf' as const,
    maxRequestBytes: 8 * 1024 * 1024,
    endpointErrors: 'retry' as const,
  },
  /** `exponentialBackoff()`'s defaults (written there). */
  retry: EXPONENTIAL_BACKOFF_DEFAULTS,
} as const;

const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const PROTOCOLS: readonly SecurityProtocol[] = ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'];
const MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];
const TOPIC_PATTERN = /^[a-zA-Z0-9._-]{1,249}$/;
const UNDELIVERABLE: readonly OnUndeliverable[] = ['dead-letter', 'block', 'drop'];
const SINK_TYPES = ['otlp-http', 'otlp-grpc', 'jaeger-thrift-http'] as const;
type SinkType = (typeof SINK_TYPES)[number];

/** Resolved TLS settings of the Kafka connection. */
export interface ResolvedTls {
  /** CA bundle path (`ssl.ca.location`), if any. */
  caFile?: string;
  /** Client certificate path (`ssl.certificate.location`), if any. */
  certFile?: string;
  /** Client key path (`ssl.key.location`), if any. */
  keyFile?: string;
  /** Client key password, if any. A secret: do not log it. */
  keyPassword?: string;
  /** Whether the broker's certificate is verified. */
  rejectUnauthorized: boolean;
}

/** Resolved SASL settings. */
export interface ResolvedSasl {
  /** The mechanism. */
  mechanism: SaslMechanism;
  /** User name. */
  username: string;
  /** Password. A secret: do not log it. */
  password: string;
}

/** The resolved `kafka` section. */
export interface ResolvedKafkaConfig {
  /** Bootstrap brokers, `host:port` each. */
  brokers: string[];
  /** The spans topic. */
  topic: string;
  /** Client id reported to the brokers. */
  clientId: string;
  /** The time limit of connecting a client (waiting for cluster metadata), in milliseconds. */
  connectTimeoutMillis: number;
  /** Security protocol, explicit or derived from TLS and SASL. */
  securityProtocol: SecurityProtocol;
  /** TLS settings, or undefined without TLS. */
  tls: ResolvedTls | undefined;
  /** SASL settings, or undefined without SASL. */
  sasl: ResolvedSasl | undefined;
  /** librdkafka passthrough properties, as given (they may hold secrets). */
  rdkafka: Record<string, RdKafkaValue>;
}

/** The resolved `exporter` section. */
export interface ResolvedExporterConfig {
  /** Time limit of one `export()`, in milliseconds. */
  timeoutMillis: number;
  /** What one message holds: the spans of one partition, of one trace, or the whole batch. */
  messagePer: MessagePer;
  /** Compression codec. */
  compression: Compression;
  /**
   * The largest message produced: `exporter.maxMessageBytes`, or a lower
   * `kafka.rdkafka['message.max.bytes']`.
   */
  maxMessageBytes: number;
  /** librdkafka `linger.ms`. */
  lingerMillis: number;
  /** Bound on bytes queued in the producer. */
  maxQueueBytes: number;
  /** The durable spool, or undefined when it is off. */
  spool: ResolvedSpoolConfig | undefined;
}

/** The resolved `exporter.spool` section. */
export interface ResolvedSpoolConfig {
  /** The spool's directory. */
  directory: string;
  /** Bound on the spool's bytes on disk. */
  maxBytes: number;
  /** When spooled data is forced to the disk. */
  fsync: SpoolFsync;
  /** Size at which a segment file is closed. */
  segmentBytes: number;
  /** Average bound on the bytes drained per second. */
  drainBytesPerSecond: number;
}

/** The resolved options of the built-in OTLP/HTTP sink. */
export interface ResolvedOtlpHttpSinkConfig {
  /** Selects this sink. */
  type: 'otlp-http';
  /** The endpoint (code, else `OTEL_KAFKA_FORWARDER_SINK_URL`, else the default). May hold credentials. */
  url: string;
  /** Extra request headers (values may be secrets). */
  headers: Record<string, string>;
  /** Time limit of one request. */
  timeoutMillis: number;
  /** Request body compression. */
  compression: 'none' | 'gzip';
  /** What the sink sends. */
  encoding: 'protobuf' | 'json';
  /** What a response saying the URL is wrong means. */
  endpointErrors: 'retry' | 'permanent';
}

/** The resolved options of the built-in OTLP/gRPC sink. */
export interface ResolvedOtlpGrpcSinkConfig {
  /** Selects this sink. */
  type: 'otlp-grpc';
  /** The endpoint (code, else `OTEL_KAFKA_FORWARDER_SINK_URL`, else the default). */
  url: string;
  /** Extra request metadata (values may be secrets). */
  headers: Record<string, string>;
  /** Deadline of one call. */
  timeoutMillis: number;
  /** Message compression. */
  compression: 'none' | 'gzip';
  /** What a response saying the URL is wrong means. */
  endpointErrors: 'retry' | 'permanent';
}

/** The resolved options of the built-in Jaeger Thrift sink. */
export interface ResolvedJaegerThriftHttpSinkConfig {
  /** Selects this sink. */
  type: 'jaeger-thrift-http';
  /** The endpoint (code, else `OTEL_KAFKA_FORWARDER_SINK_URL`, else the default). May hold credentials. */
  url: string;
  /** Extra request headers (values may be secrets). */
  headers: Record<string, string>;
  /** Time limit of one request. */
  timeoutMillis: number;
  /** Largest request body. */
  maxRequestBytes: number;
  /** What a response saying the URL is wrong means. */
  endpointErrors: 'retry' | 'permanent';
}

/** A {@link Sink} object given in `forwarder.sink`, passed through unchanged. */
export interface ResolvedCustomSinkConfig {
  /** Marks a sink given as an object. */
  type: 'custom';
  /** The sink object from the configuration (not created, not called by {@link resolveConfig}). */
  sink: Sink;
}

/**
 * The resolved `forwarder.sink`: a built-in sink's type and complete options (no sink is created), or the
 * custom {@link Sink} object as given.
 */
export type ResolvedSinkConfig =
  | ResolvedOtlpHttpSinkConfig
  | ResolvedOtlpGrpcSinkConfig
  | ResolvedJaegerThriftHttpSinkConfig
  | ResolvedCustomSinkConfig;

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

/** The forwarder's settings with its sink created and its retry policy built (internal). */
export interface ResolvedForwarderConfig extends Omit<ResolvedForwarderSettings, 'sink'> {
  sink: Sink;
  retry: RetryPolicy;
}

/** The resolved `retry` option when it holds backoff options (see {@link exponentialBackoff}). */
export interface ResolvedBackoffConfig {
  /** Marks exponential backoff. */
  type: 'exponential-backoff';
  /** Delay before the first retry, in milliseconds. */
  initialDelayMillis: number;
  /** Largest delay, in milliseconds. */
  maxDelayMillis: number;
  /** Growth factor of the delay. */
  multiplier: number;
  /** Spread of the random factor, 0 to 1. */
  jitter: number;
  /** Attempts in total, `Infinity` for no limit. */
  maxAttempts: number;
}

/** The resolved `retry` option when it holds a {@link RetryPolicy} object, passed through unchanged. */
export interface ResolvedCustomRetryConfig {
  /** Marks a policy given as an object. */
  type: 'custom';
  /** The policy object from the configuration. */
  policy: RetryPolicy;
}

/** The resolved `retry` option. */
export type ResolvedRetryConfig = ResolvedBackoffConfig | ResolvedCustomRetryConfig;

/**
 * What {@link resolveConfig} returns: every section with `code ?? environment ?? default` applied, as plain
 * data.
 *
 * @remarks
 * It holds secrets as configured (SASL and TLS key passwords, sink headers, passthrough properties): do not
 * log it as a whole.
 */
export interface ResolvedConfig {
  /** The `kafka` section. */
  kafka: ResolvedKafkaConfig;
  /** The `exporter` section. */
  exporter: ResolvedExporterConfig;
  /** The `forwarder` section. */
  forwarder: ResolvedForwarderSettings;
  /** The `retry` option (used by the forwarder). */
  retry: ResolvedRetryConfig;
  /** The serializer: a built-in one's name, or `custom` for a {@link SpanSerializer} object. */
  serializer: SerializerName | 'custom';
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

/**
 * Applies `code ?? environment ?? default` to the whole configuration object and returns the result as plain
 * data, without creating anything: no producer, consumer or sink, no socket. The exporter and the forwarder
 * resolve their parts the same way.
 *
 * @remarks
 * A bad value in code throws a {@link ConfigError} naming the field and what is allowed; a bad environment
 * value is logged as a warning through `config.logger` (its value redacted when it may hold a secret) and
 * ignored. Checks that need the native Kafka client (unknown or invalid `kafka.rdkafka` properties) and the
 * built-in sinks' detailed header checks run only when the exporter or forwarder is constructed.
 *
 * The result holds secrets as configured: do not log it as a whole.
 *
 * @param config - The configuration object.
 * @param env - Where environment variables are read from.
 * @returns The resolved `kafka`, `exporter` and `forwarder` sections, the `retry` option and the serializer.
 * @throws {@link ConfigError} when a value in `config` is invalid.
 *
 * @example
 * ```ts
 * import { resolveConfig } from 'otel-kafka-jaeger';
 *
 * const resolved = resolveConfig({ kafka: { brokers: ['127.0.0.1:9092'] } }, process.env);
 * console.log(resolved.kafka.topic); // 'otlp_spans' unless OTEL_KAFKA_TOPIC says otherwise
 * console.log(resolved.forwarder.sink); // { type: 'otlp-http', url: 'http://localhost:4318/v1/traces', ... }
 * ```
 */
export function resolveConfig(config?: OtelKafkaJaegerConfig, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const root = checkRoot(config);
  const logger = resolveLogger(root.logger);
  checkMeterProvider(root.meterProvider);
  const serializer = resolveSerializer(root.serializer, new EnvReader(env, configLogger(logger)));
  const kafka = resolveKafkaConfig(root, env, logger);
  const exporter = resolveExporterConfig(root, env, logger);
  checkProducerOverrides(kafka, exporter, configLogger(logger));
  return {
    kafka,
    exporter,
    forwarder: resolveForwarderSettings(root, kafka.topic, env, logger),
    retry: resolveRetryConfig(root),
    serializer: serializer === undefined ? 'custom' : serializer,
  };
}

/**
 * The logger, meter and serializer shared by every component; `env` gives `OTEL_EXPORTER_KAFKA_SERIALIZER`.
 */
export function resolveCommon(config: unknown, env: NodeJS.ProcessEnv = process.env): ResolvedCommon {
  const c = checkRoot(config);
  const logger = resolveLogger(c.logger);
  const unknown = unknownConfigFields(c);
  if (unknown.length > 0) {
    configLogger(logger).warn('configuration fields not known to otel-kafka-jaeger are ignored; check their spelling', {
      fields: unknown.join(', '),
    });
  }
  checkMeterProvider(c.meterProvider);
  // Without one, the global provider's, bound late: applications often register it after creating us.
  const meter = c.meterProvider ? c.meterProvider.getMeter('otel-kafka-jaeger') : globalMeter('otel-kafka-jaeger');
  const name = resolveSerializer(c.serializer, new EnvReader(env, configLogger(logger)));
  if (name === 'otlp_proto') return { logger, meter, serializer: otlpProtoSerializer(), serializerName: name };
  if (name === 'otlp_json') return { logger, meter, serializer: otlpJsonSerializer(), serializerName: name };
  return { logger, meter, serializer: c.serializer as SpanSerializer, serializerName: 'custom' };
}

const SERIALIZERS: readonly SerializerName[] = ['otlp_proto', 'otlp_json'];

/** The built-in serializer's name (code ?? environment ?? `otlp_proto`), or undefined for a serializer object. */
function resolveSerializer(serializer: unknown, e: EnvReader): SerializerName | undefined {
  if (serializer === undefined) return e.read(ENV.serializer, oneOf(SERIALIZERS)) ?? 'otlp_proto';
  if (serializer === 'otlp_proto') return 'otlp_proto';
  if (serializer === 'otlp_json') return 'otlp_json';
  if (
    isObject(serializer) &&
    typeof serializer.serialize === 'function' &&
    typeof serializer.contentType === 'string' &&
    serializer.contentType !== ''
  ) {
    return undefined;
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

function checkMeterProvider(provider: unknown): asserts provider is MeterProvider | undefined {
  if (provider === undefined) return;
  if (!isObject(provider) || typeof provider.getMeter !== 'function') {
    throw new ConfigError('meterProvider', 'expected an OpenTelemetry MeterProvider (an object with getMeter)');
  }
}

/** The `kafka` section: brokers, topic, client id, security, passthrough. */
export function resolveKafkaConfig(
  config: unknown,
  env: NodeJS.ProcessEnv = process.env,
  logger: Logger = diagLogger,
): ResolvedKafkaConfig {
  const root = checkRoot(config);
  const k = checkSection('kafka', root.kafka);
  const e = new EnvReader(env, configLogger(logger));

  let brokers: string[] | undefined;
  if (k.brokers !== undefined) {
    if (!Array.isArray(k.brokers)) {
      throw new ConfigError('kafka.brokers', `expected an array of 'host:port' strings, got ${describe(k.brokers)}`);
    }
    if (k.brokers.length === 0) {
      throw new ConfigError('kafka.brokers', "is empty: give at least one 'host:port' (e.g. '127.0.0.1:9092')");
    }
    brokers = k.brokers.map((b: unknown, i) => {
      const problem = typeof b === 'string' ? brokerProblem(b) : 'not a string';
      if (problem !== undefined) throw new ConfigError(`kafka.brokers[${i}]`, `${describe(b)}: ${problem}`);
      return b as string;
    });
  }
  brokers ??= e.read(ENV.brokers, brokerList);
  if (!brokers) {
    // Set but refused (the warning says why): not "required", which would read as if it were not set.
    const raw = e.rawValue(ENV.brokers);
    const problem = raw === undefined ? undefined : brokerList(raw);
    throw new ConfigError(
      'kafka.brokers',
      problem && 'error' in problem
        ? `${e.nameOf(ENV.brokers)} is invalid (${problem.error}) and kafka.brokers is not set`
        : `required: set kafka.brokers or ${ENV.brokers} (or its earlier name ${ENV_OLD_NAMES[ENV.brokers]}) ` +
            `(e.g. '127.0.0.1:9092')`,
    );
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
  const connectTimeoutMillis =
    checkNumber('kafka.connectTimeoutMillis', k.connectTimeoutMillis, {
      min: 0,
      exclusiveMin: true,
      max: MAX_TIMER_MILLIS,
    }) ??
    e.read(ENV.connectTimeout, positiveMillis) ??
    DEFAULTS.connectTimeoutMillis;

  // TLS: code object/boolean (`kafka.ssl`, or its alias `kafka.tls`), else the environment's certificate paths.
  if (k.ssl !== undefined && k.tls !== undefined) {
    throw new ConfigError('kafka.tls', 'is another name for kafka.ssl: set one of them, not both');
  }
  const tlsField = k.tls !== undefined ? 'kafka.tls' : 'kafka.ssl';
  const tlsOption = k.ssl ?? k.tls;
  let tls: ResolvedTls | undefined;
  if (tlsOption !== undefined && tlsOption !== false) {
    const s = tlsOption === true ? {} : checkSection(tlsField, tlsOption);
    // KafkaJS's `ssl` takes the PEM itself (`ca: [fs.readFileSync(...)]`); ignored, it would silently leave the
    // connection to the system's trust store and no client certificate.
    for (const [pem, file] of [
      ['ca', 'caFile'],
      ['cert', 'certFile'],
      ['key', 'keyFile'],
      ['passphrase', 'keyPassword'],
    ] as const) {
      if (s[pem] !== undefined) {
        throw new ConfigError(
          `${tlsField}.${pem}`,
          pem === 'passphrase'
            ? `not supported: set ${tlsField}.keyPassword (KafkaJS's ssl options are not read)`
            : `PEM content is not supported: write it to a file and set ${tlsField}.${file} to its path ` +
                "(KafkaJS's ssl options are not read)",
        );
      }
    }
    tls = {
      caFile: checkString(`${tlsField}.caFile`, s.caFile) ?? e.string(ENV.certificate),
      certFile: checkString(`${tlsField}.certFile`, s.certFile) ?? e.string(ENV.clientCertificate),
      keyFile: checkString(`${tlsField}.keyFile`, s.keyFile) ?? e.string(ENV.clientKey),
      keyPassword: checkString(`${tlsField}.keyPassword`, s.keyPassword, { secret: true }),
      rejectUnauthorized: checkBoolean(`${tlsField}.rejectUnauthorized`, s.rejectUnauthorized) ?? true,
    };
  } else if (tlsOption === undefined) {
    const caFile = e.string(ENV.certificate);
    const certFile = e.string(ENV.clientCertificate);
    const keyFile = e.string(ENV.clientKey);
    if (caFile || certFile || keyFile) tls = { caFile, certFile, keyFile, rejectUnauthorized: true };
  }

  const sasl = k.sasl === undefined ? saslFromEnvironment(e, configLogger(logger)) : saslFromCode(k.sasl, e);

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
  passthroughMessageMaxBytes(root);

  return {
    brokers,
    topic,
    clientId,
    connectTimeoutMillis,
    securityProtocol,
    tls,
    sasl,
    rdkafka: rdkafka as Record<string, RdKafkaValue>,
  };
}

/** SASL set in code: completed from the environment, and it must then be complete. */
function saslFromCode(value: unknown, e: EnvReader): ResolvedSasl {
  const s = checkSection('kafka.sasl', value);
  const mechanism =
    // Any case, as the environment variable accepts it (KafkaJS and librdkafka users write 'SCRAM-SHA-512').
    checkOneOf(
      'kafka.sasl.mechanism',
      typeof s.mechanism === 'string' ? s.mechanism.toLowerCase() : s.mechanism,
      MECHANISMS,
    ) ?? e.read(ENV.saslMechanism, oneOf(MECHANISMS));
  const username = checkString('kafka.sasl.username', s.username) ?? e.string(ENV.saslUsername);
  const password = checkString('kafka.sasl.password', s.password, { secret: true }) ?? e.string(ENV.saslPassword);
  if (!username) throw new ConfigError('kafka.sasl.username', `required with SASL (or set ${ENV.saslUsername})`);
  if (!password) throw new ConfigError('kafka.sasl.password', `required with SASL (or set ${ENV.saslPassword})`);
  return { mechanism: mechanism ?? 'plain', username, password };
}

/**
 * SASL from the environment alone: only a complete set is used; anything else is operator input to warn
 * about and ignore. A mechanism that is set but invalid discards the set rather than falling back to PLAIN,
 * which would send the password to a broker expecting SCRAM.
 */
function saslFromEnvironment(e: EnvReader, logger: Logger): ResolvedSasl | undefined {
  const names = [ENV.saslMechanism, ENV.saslUsername, ENV.saslPassword];
  const present = names.filter((n) => e.has(n)).map((n) => e.nameOf(n));
  if (present.length === 0) return undefined;
  // Name what is missing in the family of what is set, earlier names included.
  const oldNames = present.every((n) => !names.includes(n as (typeof names)[number]));
  const shown = (n: string): string => (oldNames ? (ENV_OLD_NAMES[n] ?? n) : n);
  const mechanism = e.read(ENV.saslMechanism, oneOf(MECHANISMS));
  const username = e.string(ENV.saslUsername);
  const password = e.string(ENV.saslPassword);
  const missing: string[] = [];
  if (!username) missing.push(shown(ENV.saslUsername));
  if (!password) missing.push(shown(ENV.saslPassword));
  if (missing.length > 0 || (e.has(ENV.saslMechanism) && mechanism === undefined)) {
    const reason =
      missing.length > 0 ? `${missing.join(' and ')} not set` : `${e.nameOf(ENV.saslMechanism)} is invalid`;
    logger.warn(`ignoring the SASL environment variables (${present.join(', ')}): ${reason}`, {
      variables: present,
    });
    return undefined;
  }
  return { mechanism: mechanism ?? 'plain', username: username as string, password: password as string };
}

/**
 * The passthrough `kafka.rdkafka['message.max.bytes']` as a number, if set; it must leave room for a
 * message's key and headers like `exporter.maxMessageBytes` does.
 */
function passthroughMessageMaxBytes(root: OtelKafkaJaegerConfig): number | undefined {
  const rdkafka = isObject(root.kafka) ? root.kafka.rdkafka : undefined;
  const raw: unknown = isObject(rdkafka) ? rdkafka['message.max.bytes'] : undefined;
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : raw;
  return checkNumber("kafka.rdkafka['message.max.bytes']", value, {
    min: MIN_MESSAGE_BYTES,
    max: MAX_MESSAGE_BYTES,
    integer: true,
  });
}

/** The `exporter` section. */
export function resolveExporterConfig(
  config: unknown,
  env: NodeJS.ProcessEnv = process.env,
  logger: Logger = diagLogger,
): ResolvedExporterConfig {
  const root = checkRoot(config);
  const x = checkSection('exporter', root.exporter);
  const e = new EnvReader(env, configLogger(logger));
  const d = DEFAULTS.exporter;
  const configured =
    checkNumber('exporter.maxMessageBytes', x.maxMessageBytes, {
      min: MIN_MESSAGE_BYTES,
      max: MAX_MESSAGE_BYTES,
      integer: true,
    }) ?? d.maxMessageBytes;
  // The passthrough is applied last to the producer, so a lower value there is the real limit.
  const maxMessageBytes = Math.min(configured, passthroughMessageMaxBytes(root) ?? Infinity);
  const maxQueueBytes =
    checkNumber('exporter.maxQueueBytes', x.maxQueueBytes, { min: 1024 * 1024, max: 2 ** 31 - 1, integer: true }) ??
    d.maxQueueBytes;
  if (maxQueueBytes < maxMessageBytes) {
    throw new ConfigError('exporter.maxQueueBytes', `must be at least exporter.maxMessageBytes (${maxMessageBytes})`);
  }
  return {
    timeoutMillis:
      checkNumber('exporter.timeoutMillis', x.timeoutMillis, { min: 0, exclusiveMin: true, max: MAX_TIMER_MILLIS }) ??
      e.read(ENV.timeout, positiveMillis) ??
      d.timeoutMillis,
    messagePer:
      checkOneOf('exporter.messagePer', x.messagePer, MESSAGE_PER) ??
      e.read(ENV.messagePer, oneOf(MESSAGE_PER)) ??
      legacyMessagePer(
        checkBoolean('exporter.partitionByTraceId', x.partitionByTraceId) ??
          e.read(ENV.partitionByTraceId, booleanValue),
      ) ??
      d.messagePer,
    compression:
      checkOneOf('exporter.compression', x.compression, COMPRESSIONS) ??
      e.read(ENV.compression, oneOf(COMPRESSIONS)) ??
      d.compression,
    maxMessageBytes,
    lingerMillis: checkNumber('exporter.lingerMillis', x.lingerMillis, { min: 0, max: 900_000 }) ?? d.lingerMillis,
    maxQueueBytes,
    spool: resolveSpool(x.spool, e),
  };
}

const SPOOL_FSYNC: readonly SpoolFsync[] = ['batch', 'never'];
/** The smallest spool: a few of the largest messages. */
const MIN_SPOOL_BYTES = 64 * 1024;

/** The `exporter.spool` section: off when neither it nor the environment variable is set. */
function resolveSpool(v: unknown, e: EnvReader): ResolvedSpoolConfig | undefined {
  const d = DEFAULTS.spool;
  if (v === undefined) {
    const directory = e.string(ENV.spoolDirectory);
    if (directory === undefined) return undefined;
    return { directory, ...d, segmentBytes: Math.min(d.segmentBytes, Math.floor(d.maxBytes / 4)) };
  }
  const o = checkSection('exporter.spool', v);
  const directory = checkString('exporter.spool.directory', o.directory);
  if (directory === undefined) {
    throw new ConfigError('exporter.spool.directory', 'required: the directory of the spool (created if missing)');
  }
  const maxBytes =
    checkNumber('exporter.spool.maxBytes', o.maxBytes, { min: MIN_SPOOL_BYTES, integer: true }) ?? d.maxBytes;
  const segmentBytes =
    checkNumber('exporter.spool.segmentBytes', o.segmentBytes, { min: 4096, max: maxBytes, integer: true }) ??
    Math.max(4096, Math.min(d.segmentBytes, Math.floor(maxBytes / 4)));
  const drainBytesPerSecond =
    checkNumber('exporter.spool.drainBytesPerSecond', o.drainBytesPerSecond, { min: 1024, integer: true }) ??
    d.drainBytesPerSecond;
  return {
    directory,
    maxBytes,
    fsync: checkOneOf('exporter.spool.fsync', o.fsync, SPOOL_FSYNC) ?? d.fsync,
    segmentBytes,
    drainBytesPerSecond,
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

/** The `retry` option as plain data (validated by building the policy, which has no side effects). */
function resolveRetryConfig(root: OtelKafkaJaegerConfig): ResolvedRetryConfig {
  const policy = resolveRetryPolicy(root);
  const r: unknown = root.retry;
  if (r === policy) return { type: 'custom', policy };
  const o = (isObject(r) ? r : {}) as ExponentialBackoffOptions;
  const d = DEFAULTS.retry;
  return {
    type: 'exponential-backoff',
    initialDelayMillis: o.initialDelayMillis ?? d.initialDelayMillis,
    maxDelayMillis: o.maxDelayMillis ?? d.maxDelayMillis,
    multiplier: o.multiplier ?? d.multiplier,
    jitter: o.jitter ?? d.jitter,
    maxAttempts: o.maxAttempts ?? d.maxAttempts,
  };
}

/**
 * The `forwarder` section (plus the shared `retry` policy) with its sink created; `topic` is the resolved
 * `kafka.topic`.
 */
export function resolveForwarderConfig(
  config: unknown,
  topic: string,
  env: NodeJS.ProcessEnv = process.env,
  logger: Logger = diagLogger,
): ResolvedForwarderConfig {
  const settings = resolveForwarderSettings(config, topic, env, logger);
  const retry = resolveRetryPolicy(config);
  return { ...settings, sink: createSink(settings.sink), retry };
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

// ---------------------------------------------------------------------------------------------- sinks

const SINK = 'forwarder.sink';

function resolveSinkConfig(sink: unknown, e: EnvReader): ResolvedSinkConfig {
  if (sink === undefined) return builtInSink(e.read(ENV.forwarderSinkType, oneOf(SINK_TYPES)) ?? 'otlp-http', {}, e);
  if (!isObject(sink)) throw new ConfigError(SINK, `expected a sink config or a Sink, got ${describe(sink)}`);
  if (typeof sink.send === 'function') {
    if (typeof sink.close !== 'function') throw new ConfigError(SINK, 'a Sink needs send() and close()');
    if (typeof sink.name !== 'string') throw new ConfigError(SINK, 'a Sink needs a name');
    return { type: 'custom', sink: sink as unknown as Sink };
  }
  const type = sink.type;
  if (!(SINK_TYPES as readonly unknown[]).includes(type)) {
    throw new ConfigError(
      `${SINK}.type`,
      `expected 'otlp-http', 'otlp-grpc', 'jaeger-thrift-http' or a Sink object, got ${describe(type)}`,
    );
  }
  return builtInSink(type as SinkType, sink, e);
}

/**
 * A built-in sink's options, checked and completed. The URL is `code ?? environment ?? default`; the sink
 * itself checks header names and values in detail when it is created.
 */
function builtInSink(type: SinkType, o: Record<string, unknown>, e: EnvReader): ResolvedSinkConfig {
  const problem = type === 'otlp-grpc' ? grpcUrlProblem : httpUrlProblem;
  let url: string | undefined;
  if (o.url !== undefined) {
    // The URL is never echoed: it may hold credentials.
    if (typeof o.url !== 'string') throw new ConfigError(`${SINK}.url`, `expected a string, got ${typeof o.url}`);
    const p = problem(o.url);
    if (p !== undefined) throw new ConfigError(`${SINK}.url`, p);
    url = o.url;
  }
  url ??=
    e.read(ENV.forwarderSinkUrl, (raw) => {
      const p = problem(raw);
      return p === undefined ? { value: raw } : { error: `not usable by the ${type} sink: ${p}` };
    }) ?? DEFAULTS.sink.urls[type];
  const common = {
    url,
    headers:
      o.headers !== undefined
        ? checkHeaders(`${SINK}.headers`, o.headers)
        : (e.read(ENV.forwarderSinkHeaders, headerList(headerProblem(type))) ?? {}),
    timeoutMillis:
      checkNumber(`${SINK}.timeoutMillis`, o.timeoutMillis, { min: 0, exclusiveMin: true, max: MAX_TIMER_MILLIS }) ??
      e.read(ENV.forwarderSinkTimeout, positiveMillis) ??
      DEFAULTS.sink.timeoutMillis,
    endpointErrors:
      checkOneOf(`${SINK}.endpointErrors`, o.endpointErrors, ['retry', 'permanent'] as const) ??
      DEFAULTS.sink.endpointErrors,
  };
  const compression = (): 'none' | 'gzip' =>
    checkOneOf(`${SINK}.compression`, o.compression, SINK_COMPRESSIONS) ??
    e.read(ENV.forwarderSinkCompression, oneOf(SINK_COMPRESSIONS)) ??
    DEFAULTS.sink.compression;
  switch (type) {
    case 'otlp-http':
      return {
        type,
        ...common,
        compression: compression(),
        encoding: checkOneOf(`${SINK}.encoding`, o.encoding, ['protobuf', 'json'] as const) ?? DEFAULTS.sink.encoding,
      };
    case 'otlp-grpc':
      return { type, ...common, compression: compression() };
    case 'jaeger-thrift-http':
      e.ignoreIfSet(ENV.forwarderSinkCompression, 'the jaeger-thrift-http sink does not compress');
      return {
        type,
        ...common,
        maxRequestBytes:
          checkNumber(`${SINK}.maxRequestBytes`, o.maxRequestBytes, { min: 1, integer: true }) ??
          DEFAULTS.sink.maxRequestBytes,
      };
  }
}

const SINK_COMPRESSIONS = ['none', 'gzip'] as const;

/** Why a header from the environment is not one `type`'s sink can send (its own check), or undefined. */
function headerProblem(type: SinkType): (name: string, value: string) => string | undefined {
  const check = type === 'otlp-grpc' ? checkGrpcMetadata : checkHttpHeaders;
  return (name, value) => {
    try {
      check({ [name]: value }, 'header');
      return undefined;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // The reason only: the field holds the header's name.
      return err.message.slice(`invalid config ${err.field}: `.length);
    }
  };
}

function checkHeaders(field: string, v: unknown): Record<string, string> {
  if (v === undefined) return {};
  if (!isObject(v)) {
    // Not even a string is shown: `headers: 'Bearer ...'` is a likely slip.
    const got = Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v;
    throw new ConfigError(field, `expected an object of names to string values, got ${got}`);
  }
  for (const [name, value] of Object.entries(v)) {
    // Only the type of a header value is ever shown: values are often credentials.
    if (typeof value !== 'string') throw new ConfigError(`${field}.${name}`, `expected a string, got ${typeof value}`);
  }
  return { ...(v as Record<string, string>) };
}

/** Why `raw` is not an URL the HTTP sinks accept, or undefined. Never includes the URL itself. */
function httpUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'expected an http: or https: URL, got a string that is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `expected an http: or https: URL, got protocol '${url.protocol}'`;
  }
  return undefined;
}

/** Why `raw` is not an endpoint the OTLP/gRPC sink accepts (the sink's own rules), or undefined. */
function grpcUrlProblem(raw: string): string | undefined {
  const expected = 'expected http://host:port, https://host:port or host:port';
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`);
  } catch {
    return `${expected}, got a string that is not one`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${expected}, got protocol '${url.protocol}'`;
  if (url.username !== '' || url.password !== '') {
    return 'credentials in the URL are not supported; send them in headers';
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    return `${expected} without a path or query (is this the OTLP/HTTP URL?)`;
  }
  return undefined;
}

/** Creates the sink the settings describe (a custom sink is returned as is). */
function createSink(sink: ResolvedSinkConfig): Sink {
  switch (sink.type) {
    case 'custom':
      return sink.sink;
    case 'otlp-http': {
      const { type: _type, ...options } = sink;
      return otlpHttpSink(options, SINK);
    }
    case 'otlp-grpc': {
      const { type: _type, ...options } = sink;
      return otlpGrpcSink(options, SINK);
    }
    case 'jaeger-thrift-http': {
      const { type: _type, ...options } = sink;
      return jaegerThriftHttpSink(options, SINK);
    }
  }
}

const MESSAGE_PER: readonly MessagePer[] = ['partition', 'trace', 'batch'];

/** The deprecated `partitionByTraceId` as a `messagePer`. */
function legacyMessagePer(partitionByTraceId: boolean | undefined): MessagePer | undefined {
  if (partitionByTraceId === undefined) return undefined;
  return partitionByTraceId ? 'trace' : 'batch';
}
