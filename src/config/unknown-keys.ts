// Fields the configuration does not know: a typo (`exporter.timeout` for `exporter.timeoutMillis`) would
// otherwise be ignored in silence and the default used. They are reported, not rejected, so a config written
// for a newer version still works with this one.
import type { ExponentialBackoffOptions } from '../retry/exponential-backoff';
import { JAEGER_THRIFT_HTTP_SINK_OPTION_NAMES } from '../sinks/jaeger-thrift-http-sink-options';
import { OTLP_GRPC_SINK_OPTION_NAMES } from '../sinks/otlp-grpc-sink-options';
import { OTLP_HTTP_SINK_OPTION_NAMES } from '../sinks/otlp-http-sink-options';
import type {
  DeadLetterOptions,
  ExporterOptions,
  ForwarderBatchOptions,
  ForwarderOptions,
  JaegerThriftHttpSinkConfig,
  KafkaOptions,
  KafkaSaslOptions,
  KafkaTlsOptions,
  OtelKafkaJaegerConfig,
  OtlpGrpcSinkConfig,
  OtlpHttpSinkConfig,
  SpoolOptions,
} from './types';

/**
 * A type's field names as an object literal: `satisfies` makes a field missing from the list (an option added
 * to the type and not here) or a name the type does not have a compile error.
 */
type FieldsOf<T> = Record<keyof Required<T>, true>;

/**
 * `kafka.ssl`'s (and its alias `kafka.tls`'s) fields. KafkaJS's inline ca/cert/key/passphrase count as known:
 * resolving refuses them with a pointer to the file options, rather than this saying they are ignored.
 */
const TLS_FIELDS = {
  caFile: true,
  certFile: true,
  keyFile: true,
  keyPassword: true,
  rejectUnauthorized: true,
} as const satisfies FieldsOf<KafkaTlsOptions>;
const KAFKAJS_TLS_FIELDS = ['ca', 'cert', 'key', 'passphrase'];

const ROOT_FIELDS = {
  kafka: true,
  serializer: true,
  retry: true,
  exporter: true,
  forwarder: true,
  meterProvider: true,
  logger: true,
} as const satisfies FieldsOf<OtelKafkaJaegerConfig>;

const KAFKA_FIELDS = {
  brokers: true,
  topic: true,
  clientId: true,
  connectTimeoutMillis: true,
  securityProtocol: true,
  ssl: true,
  tls: true,
  sasl: true,
  rdkafka: true,
} as const satisfies FieldsOf<KafkaOptions>;

const SASL_FIELDS = { mechanism: true, username: true, password: true } as const satisfies FieldsOf<KafkaSaslOptions>;

const RETRY_FIELDS = {
  initialDelayMillis: true,
  maxDelayMillis: true,
  multiplier: true,
  jitter: true,
  maxAttempts: true,
  random: true,
} as const satisfies FieldsOf<ExponentialBackoffOptions>;

const EXPORTER_FIELDS = {
  timeoutMillis: true,
  messagePer: true,
  partitionByTraceId: true,
  compression: true,
  maxMessageBytes: true,
  lingerMillis: true,
  maxQueueBytes: true,
  spool: true,
} as const satisfies FieldsOf<ExporterOptions>;

const SPOOL_FIELDS = {
  directory: true,
  maxBytes: true,
  fsync: true,
  segmentBytes: true,
  drainBytesPerSecond: true,
} as const satisfies FieldsOf<SpoolOptions>;

const FORWARDER_FIELDS = {
  groupId: true,
  sink: true,
  deadLetter: true,
  onUndeliverable: true,
  batch: true,
  maxInFlightRequests: true,
  maxBufferedBytes: true,
  commitIntervalMillis: true,
  stopTimeoutMillis: true,
} as const satisfies FieldsOf<ForwarderOptions>;

const DEAD_LETTER_FIELDS = { topic: true, onUndeliverable: true } as const satisfies FieldsOf<DeadLetterOptions>;

const BATCH_FIELDS = {
  maxRecords: true,
  maxBytes: true,
  lingerMillis: true,
} as const satisfies FieldsOf<ForwarderBatchOptions>;

/** Each built-in sink's fields: its type tag and its options (the sink's own list). */
const SINK_FIELDS = {
  'otlp-http': { type: true, ...OTLP_HTTP_SINK_OPTION_NAMES } satisfies FieldsOf<OtlpHttpSinkConfig>,
  'otlp-grpc': { type: true, ...OTLP_GRPC_SINK_OPTION_NAMES } satisfies FieldsOf<OtlpGrpcSinkConfig>,
  'jaeger-thrift-http': {
    type: true,
    ...JAEGER_THRIFT_HTTP_SINK_OPTION_NAMES,
  } satisfies FieldsOf<JaegerThriftHttpSinkConfig>,
};

/** The known fields of each plain-object section, by dotted path. */
const KNOWN: Record<string, readonly string[]> = {
  '': Object.keys(ROOT_FIELDS),
  kafka: Object.keys(KAFKA_FIELDS),
  'kafka.ssl': [...Object.keys(TLS_FIELDS), ...KAFKAJS_TLS_FIELDS],
  'kafka.tls': [...Object.keys(TLS_FIELDS), ...KAFKAJS_TLS_FIELDS],
  'kafka.sasl': Object.keys(SASL_FIELDS),
  retry: Object.keys(RETRY_FIELDS),
  exporter: Object.keys(EXPORTER_FIELDS),
  'exporter.spool': Object.keys(SPOOL_FIELDS),
  forwarder: Object.keys(FORWARDER_FIELDS),
  'forwarder.deadLetter': Object.keys(DEAD_LETTER_FIELDS),
  'forwarder.batch': Object.keys(BATCH_FIELDS),
  ...Object.fromEntries(
    Object.entries(SINK_FIELDS).map(([type, fields]) => [`forwarder.sink:${type}`, Object.keys(fields)]),
  ),
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function unknownIn(path: string, known: readonly string[], value: unknown): string[] {
  if (!isPlainObject(value)) return [];
  return Object.keys(value)
    .filter((k) => !known.includes(k))
    .map((k) => (path ? `${path}.${k}` : k));
}

/**
 * The dotted paths of fields in `config` that no version of the configuration defines. Custom objects (a
 * `Sink`, a `RetryPolicy`, a `SpanSerializer`, a logger) and `kafka.rdkafka` are not looked into.
 */
export function unknownConfigFields(config: unknown): string[] {
  if (!isPlainObject(config)) return [];
  const found = unknownIn('', KNOWN['']!, config);
  const section = (path: string, value: unknown): void => {
    found.push(...unknownIn(path, KNOWN[path]!, value));
  };
  const kafka = config.kafka;
  section('kafka', kafka);
  if (isPlainObject(kafka)) {
    section('kafka.ssl', kafka.ssl);
    section('kafka.tls', kafka.tls);
    section('kafka.sasl', kafka.sasl);
  }
  // A RetryPolicy is a class instance or an object with `nextDelay`: only plain option objects are checked.
  const retry = config.retry;
  if (isPlainObject(retry) && typeof retry.nextDelay !== 'function') section('retry', retry);
  section('exporter', config.exporter);
  if (isPlainObject(config.exporter)) section('exporter.spool', config.exporter.spool);
  const forwarder = config.forwarder;
  section('forwarder', forwarder);
  if (isPlainObject(forwarder)) {
    section('forwarder.deadLetter', forwarder.deadLetter);
    section('forwarder.batch', forwarder.batch);
    const sink = forwarder.sink;
    if (isPlainObject(sink) && typeof sink.send !== 'function' && typeof sink.type === 'string') {
      const known = KNOWN[`forwarder.sink:${sink.type}`];
      if (known) found.push(...unknownIn('forwarder.sink', known, sink));
    }
  }
  return found;
}
