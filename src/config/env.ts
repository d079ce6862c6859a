// Environment variables, read the OTEL_EXPORTER_OTLP_* way: a bad value is a warning and is ignored,
// never an exception (environment is operator input, code is developer input).
import type { Logger } from '../logging/logger';

/**
 * The environment variables this library reads (each used only when the field is not set in code).
 *
 * @example
 * ```ts
 * process.env[ENV.brokers] = '127.0.0.1:9092';
 * ```
 */
export const ENV = {
  /** Comma-separated `host:port` list → `kafka.brokers`. */
  brokers: 'OTEL_EXPORTER_KAFKA_BROKERS',
  /** → `kafka.topic`. */
  topic: 'OTEL_EXPORTER_KAFKA_TOPIC',
  /** → `kafka.clientId`. */
  clientId: 'OTEL_EXPORTER_KAFKA_CLIENT_ID',
  /** `none`, `gzip`, `snappy`, `lz4` or `zstd` → `exporter.compression`. */
  compression: 'OTEL_EXPORTER_KAFKA_COMPRESSION',
  /** Milliseconds → `exporter.timeoutMillis`. */
  timeout: 'OTEL_EXPORTER_KAFKA_TIMEOUT',
  /** `partition`, `trace` or `batch` → `exporter.messagePer`. */
  messagePer: 'OTEL_EXPORTER_KAFKA_MESSAGE_PER',
  /** `true` or `false` → `exporter.partitionByTraceId` (deprecated: `exporter.messagePer`). */
  partitionByTraceId: 'OTEL_EXPORTER_KAFKA_PARTITION_BY_TRACE_ID',
  /** `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl` → `kafka.securityProtocol`. */
  securityProtocol: 'OTEL_EXPORTER_KAFKA_SECURITY_PROTOCOL',
  /** `plain`, `scram-sha-256` or `scram-sha-512` → `kafka.sasl.mechanism`. */
  saslMechanism: 'OTEL_EXPORTER_KAFKA_SASL_MECHANISM',
  /** → `kafka.sasl.username`. */
  saslUsername: 'OTEL_EXPORTER_KAFKA_SASL_USERNAME',
  /** → `kafka.sasl.password` (never logged). */
  saslPassword: 'OTEL_EXPORTER_KAFKA_SASL_PASSWORD',
  /** Path of a CA bundle (PEM) → `kafka.ssl.caFile`. */
  certificate: 'OTEL_EXPORTER_KAFKA_CERTIFICATE',
  /** Path of the client certificate (PEM) → `kafka.ssl.certFile`. */
  clientCertificate: 'OTEL_EXPORTER_KAFKA_CLIENT_CERTIFICATE',
  /** Path of the client key (PEM) → `kafka.ssl.keyFile`. */
  clientKey: 'OTEL_EXPORTER_KAFKA_CLIENT_KEY',
  /** A directory → `exporter.spool.directory`: turns the exporter's durable spool on, with its defaults. */
  spoolDirectory: 'OTEL_EXPORTER_KAFKA_SPOOL_DIRECTORY',
  /** → `forwarder.groupId`. */
  forwarderGroupId: 'OTEL_KAFKA_FORWARDER_GROUP_ID',
  /**
   * → `forwarder.sink.url` of the built-in sink when code sets none (the default OTLP/HTTP sink, or the
   * configured type's); a URL that sink type cannot use is logged, without its value, and ignored.
   */
  forwarderSinkUrl: 'OTEL_KAFKA_FORWARDER_SINK_URL',
  /** → `forwarder.deadLetter.topic`. */
  forwarderDeadLetterTopic: 'OTEL_KAFKA_FORWARDER_DEAD_LETTER_TOPIC',
  /**
   * A port (0 to 65535) → `--health-port` of the CLI's `forward`: where it serves `/healthz`, `/readyz` and
   * `/metrics`. Read by the CLI only.
   */
  forwarderHealthPort: 'OTEL_KAFKA_FORWARDER_HEALTH_PORT',
} as const;

// A sink URL may carry basic-auth credentials (`https://user:pass@host/...`).
const SECRET_VARS = new Set<string>([ENV.saslPassword, ENV.forwarderSinkUrl]);

/** Parses a raw value; returns an error message instead of throwing. */
export type EnvParser<T> = (raw: string) => { value: T } | { error: string };

export class EnvReader {
  readonly #env: NodeJS.ProcessEnv;
  readonly #logger: Logger;

  constructor(env: NodeJS.ProcessEnv, logger: Logger) {
    this.#env = env;
    this.#logger = logger;
  }

  /** The parsed value of `name`, or undefined when unset, empty, or invalid (then with a warning). */
  read<T>(name: string, parse: EnvParser<T>): T | undefined {
    const raw = this.#env[name]?.trim();
    if (raw === undefined || raw === '') return undefined;
    const parsed = parse(raw);
    if ('value' in parsed) return parsed.value;
    const shown = SECRET_VARS.has(name) ? '(redacted)' : JSON.stringify(raw);
    this.#logger.warn(`ignoring ${name}=${shown}: ${parsed.error}`, { variable: name });
    return undefined;
  }

  /** Whether `name` holds a non-blank value, valid or not. */
  has(name: string): boolean {
    const raw = this.#env[name]?.trim();
    return raw !== undefined && raw !== '';
  }

  string(name: string): string | undefined {
    return this.read(name, (raw) => ({ value: raw }));
  }
}

export function oneOf<T extends string>(allowed: readonly T[]): EnvParser<T> {
  return (raw) => {
    const v = raw.toLowerCase();
    return (allowed as readonly string[]).includes(v)
      ? { value: v as T }
      : { error: `expected one of ${allowed.join(', ')}` };
  };
}

/** The longest timer Node (and librdkafka's `message.timeout.ms`) accepts: 2^31 - 1 ms, about 24.8 days. */
const MAX_ENV_MILLIS = 2 ** 31 - 1;

export const positiveMillis: EnvParser<number> = (raw) => {
  const n = Number(raw);
  return /^\d+(\.\d+)?$/.test(raw) && Number.isFinite(n) && n > 0 && n <= MAX_ENV_MILLIS
    ? { value: n }
    : { error: `expected a positive number of milliseconds, at most ${MAX_ENV_MILLIS}` };
};

export const booleanValue: EnvParser<boolean> = (raw) => {
  const v = raw.toLowerCase();
  if (v === 'true') return { value: true };
  if (v === 'false') return { value: false };
  return { error: 'expected true or false' };
};

export const brokerList: EnvParser<string[]> = (raw) => {
  const brokers = raw
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const bad = brokers.find((b) => brokerProblem(b) !== undefined);
  if (brokers.length === 0) return { error: 'expected host:port[,host:port...]' };
  if (bad !== undefined) return { error: `${JSON.stringify(bad)}: ${brokerProblem(bad)}` };
  return { value: brokers };
};

/** Why `broker` is not a usable `host:port`, or undefined when it is. */
export function brokerProblem(broker: string): string | undefined {
  if (broker.length === 0) return 'empty';
  if (/[\s,]/.test(broker)) return 'contains whitespace or a comma';
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d+))?$/.exec(broker);
  if (!match) return 'expected host:port';
  // Required, in code and in the environment alike: librdkafka would quietly assume 9092.
  if (match[2] === undefined) return `no port: expected host:port (e.g. ${match[1]}:9092)`;
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) return `port ${match[2]} is out of range`;
  return undefined;
}
