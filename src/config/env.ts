// Environment variables, read the OTEL_EXPORTER_OTLP_* way: a bad value is a warning and is ignored,
// never an exception (environment is operator input, code is developer input).
import type { Logger } from '../logging/logger';
import { MAX_TIMER_MILLIS } from '../retry/retry-policy';

/**
 * The environment variables this library reads (each used only when the field is not set in code).
 *
 * @remarks
 * One prefix a role: `OTEL_KAFKA_*` is the Kafka connection, read by every component (the exporter, the
 * forwarder and the CLI); `OTEL_EXPORTER_KAFKA_*` the exporter's own settings; `OTEL_KAFKA_FORWARDER_*` the
 * forwarder's own settings. The connection's earlier names, `OTEL_EXPORTER_KAFKA_<same suffix>`, are still
 * read when the current name is not set; when both are set, the current name wins (with a warning).
 *
 * @example
 * ```ts
 * process.env[ENV.brokers] = '127.0.0.1:9092';
 * ```
 */
export const ENV = {
  /** Comma-separated `host:port` list → `kafka.brokers`. */
  brokers: 'OTEL_KAFKA_BROKERS',
  /** → `kafka.topic`. */
  topic: 'OTEL_KAFKA_TOPIC',
  /** → `kafka.clientId`. */
  clientId: 'OTEL_KAFKA_CLIENT_ID',
  /** Milliseconds → `kafka.connectTimeoutMillis`. */
  connectTimeout: 'OTEL_KAFKA_CONNECT_TIMEOUT',
  /** `plaintext`, `ssl`, `sasl_plaintext` or `sasl_ssl` → `kafka.securityProtocol`. */
  securityProtocol: 'OTEL_KAFKA_SECURITY_PROTOCOL',
  /** `plain`, `scram-sha-256` or `scram-sha-512` → `kafka.sasl.mechanism`. */
  saslMechanism: 'OTEL_KAFKA_SASL_MECHANISM',
  /** → `kafka.sasl.username`. */
  saslUsername: 'OTEL_KAFKA_SASL_USERNAME',
  /** → `kafka.sasl.password` (never logged). */
  saslPassword: 'OTEL_KAFKA_SASL_PASSWORD',
  /** Path of a CA bundle (PEM) → `kafka.ssl.caFile`. */
  certificate: 'OTEL_KAFKA_CERTIFICATE',
  /** Path of the client certificate (PEM) → `kafka.ssl.certFile`. */
  clientCertificate: 'OTEL_KAFKA_CLIENT_CERTIFICATE',
  /** Path of the client key (PEM) → `kafka.ssl.keyFile`. */
  clientKey: 'OTEL_KAFKA_CLIENT_KEY',
  /** `none`, `gzip`, `snappy`, `lz4` or `zstd` → `exporter.compression`. */
  compression: 'OTEL_EXPORTER_KAFKA_COMPRESSION',
  /** Milliseconds → `exporter.timeoutMillis`. */
  timeout: 'OTEL_EXPORTER_KAFKA_TIMEOUT',
  /** `partition`, `trace` or `batch` → `exporter.messagePer`. */
  messagePer: 'OTEL_EXPORTER_KAFKA_MESSAGE_PER',
  /** `true` or `false` → `exporter.partitionByTraceId` (deprecated: `exporter.messagePer`). */
  partitionByTraceId: 'OTEL_EXPORTER_KAFKA_PARTITION_BY_TRACE_ID',
  /** A directory → `exporter.spool.directory`: turns the exporter's durable spool on, with its defaults. */
  spoolDirectory: 'OTEL_EXPORTER_KAFKA_SPOOL_DIRECTORY',
  /** `otlp_proto` or `otlp_json` → `serializer` (read by the exporter). */
  serializer: 'OTEL_EXPORTER_KAFKA_SERIALIZER',
  /** → `forwarder.groupId`. */
  forwarderGroupId: 'OTEL_KAFKA_FORWARDER_GROUP_ID',
  /** `otlp-http`, `otlp-grpc` or `jaeger-thrift-http` → `forwarder.sink.type`, when code sets no `forwarder.sink`. */
  forwarderSinkType: 'OTEL_KAFKA_FORWARDER_SINK_TYPE',
  /**
   * → `forwarder.sink.url` of the built-in sink when code sets none (the default OTLP/HTTP sink, or the
   * configured type's); a URL that sink type cannot use is logged, without its value, and ignored.
   */
  forwarderSinkUrl: 'OTEL_KAFKA_FORWARDER_SINK_URL',
  /**
   * `name=value,name2=value2` (values URL-decoded, as `OTEL_EXPORTER_OTLP_HEADERS`) → `forwarder.sink.headers`
   * (gRPC metadata for `otlp-grpc`). Never logged: header values are often credentials.
   */
  forwarderSinkHeaders: 'OTEL_KAFKA_FORWARDER_SINK_HEADERS',
  /** Milliseconds → `forwarder.sink.timeoutMillis`. */
  forwarderSinkTimeout: 'OTEL_KAFKA_FORWARDER_SINK_TIMEOUT',
  /** `none` or `gzip` → `forwarder.sink.compression` (`otlp-http` and `otlp-grpc`). */
  forwarderSinkCompression: 'OTEL_KAFKA_FORWARDER_SINK_COMPRESSION',
  /** → `forwarder.deadLetter.topic`. */
  forwarderDeadLetterTopic: 'OTEL_KAFKA_FORWARDER_DEAD_LETTER_TOPIC',
  /**
   * A port (0 to 65535) → `--health-port` of the CLI's `forward`: where it serves `/healthz`, `/readyz` and
   * `/metrics`. Read by the CLI only.
   */
  forwarderHealthPort: 'OTEL_KAFKA_FORWARDER_HEALTH_PORT',
} as const;

/**
 * Earlier names of the Kafka connection's variables, by current name: read when the current one is not set
 * (when both are, the current one wins and a warning says the earlier one is ignored).
 *
 * @example
 * ```ts
 * ENV_OLD_NAMES[ENV.brokers]; // 'OTEL_EXPORTER_KAFKA_BROKERS'
 * ```
 */
export const ENV_OLD_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  [
    ENV.brokers,
    ENV.topic,
    ENV.clientId,
    ENV.securityProtocol,
    ENV.saslMechanism,
    ENV.saslUsername,
    ENV.saslPassword,
    ENV.certificate,
    ENV.clientCertificate,
    ENV.clientKey,
  ].map((name) => [name, name.replace(/^OTEL_KAFKA_/, 'OTEL_EXPORTER_KAFKA_')]),
);

// A sink URL may carry basic-auth credentials (`https://user:pass@host/...`); header values are credentials.
const SECRET_VARS = new Set<string>([
  ENV.saslPassword,
  ENV_OLD_NAMES[ENV.saslPassword] as string,
  ENV.forwarderSinkUrl,
  ENV.forwarderSinkHeaders,
]);

/** Parses a raw value; returns an error message instead of throwing. */
export type EnvParser<T> = (raw: string) => { value: T } | { error: string };

export class EnvReader {
  readonly #env: NodeJS.ProcessEnv;
  readonly #logger: Logger;
  readonly #shadowWarned = new Set<string>();

  constructor(env: NodeJS.ProcessEnv, logger: Logger) {
    this.#env = env;
    this.#logger = logger;
  }

  /**
   * The parsed value of `name` (or of its earlier name, when `name` is not set), or undefined when unset,
   * empty, or invalid (then with a warning naming the variable that was read).
   */
  read<T>(name: string, parse: EnvParser<T>): T | undefined {
    const source = this.nameOf(name);
    const raw = this.#raw(source);
    if (raw === undefined) return undefined;
    const parsed = parse(raw);
    if ('value' in parsed) return parsed.value;
    const shown = SECRET_VARS.has(source) ? '(redacted)' : JSON.stringify(raw);
    this.#logger.warn(`ignoring ${source}=${shown}: ${parsed.error}`, { variable: source });
    return undefined;
  }

  /** Whether `name` (or its earlier name) holds a non-blank value, valid or not. */
  has(name: string): boolean {
    return this.#raw(this.nameOf(name)) !== undefined;
  }

  /**
   * The variable read for `name`: `name` itself when set or when it has no earlier name, else the earlier
   * name when that is set. Warns once when both are set (without their values).
   */
  nameOf(name: string): string {
    const old = ENV_OLD_NAMES[name];
    if (old === undefined || this.#raw(old) === undefined) return name;
    if (this.#raw(name) === undefined) return old;
    if (!this.#shadowWarned.has(name)) {
      this.#shadowWarned.add(name);
      this.#logger.warn(`ignoring ${old}: ${name} is set too, and the current name wins`, { variable: old });
    }
    return name;
  }

  /** The raw value of `name`, or `name`'s earlier name's: undefined when blank. */
  rawValue(name: string): string | undefined {
    return this.#raw(this.nameOf(name));
  }

  string(name: string): string | undefined {
    return this.read(name, (raw) => ({ value: raw }));
  }

  /** Warns that `name`, when set, is ignored, and why (never with its value). */
  ignoreIfSet(name: string, reason: string): void {
    if (!this.has(name)) return;
    const source = this.nameOf(name);
    this.#logger.warn(`ignoring ${source}: ${reason}`, { variable: source });
  }

  #raw(name: string): string | undefined {
    const raw = this.#env[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
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

/**
 * `name=value,name2=value2` as `OTEL_EXPORTER_OTLP_HEADERS` writes headers: names and values trimmed, values
 * URL-decoded; `problem` checks each header. Errors name an entry by its position only: a slip such as a
 * token pasted without its name must not end up in a log.
 */
export function headerList(
  problem: (name: string, value: string) => string | undefined = () => undefined,
): EnvParser<Record<string, string>> {
  return (raw) => {
    const headers: Record<string, string> = {};
    const seen = new Set<string>();
    for (const [i, entry] of raw.split(',').entries()) {
      if (entry.trim() === '') continue;
      const where = `entry ${i + 1}`;
      const eq = entry.indexOf('=');
      const name = eq < 0 ? '' : entry.slice(0, eq).trim();
      if (name === '') return { error: `${where} is not name=value (expected name=value,name2=value2)` };
      let value: string;
      try {
        value = decodeURIComponent(entry.slice(eq + 1).trim());
      } catch {
        return { error: `${where}: the value is not valid URL encoding` };
      }
      if (seen.has(name.toLowerCase())) return { error: `${where}: the name is given twice (case-insensitive)` };
      seen.add(name.toLowerCase());
      const p = problem(name, value);
      if (p !== undefined) return { error: `${where}: ${p}` };
      headers[name] = value;
    }
    return seen.size > 0 ? { value: headers } : { error: 'expected name=value,name2=value2' };
  };
}

export const positiveMillis: EnvParser<number> = (raw) => {
  const n = Number(raw);
  return /^\d+(\.\d+)?$/.test(raw) && Number.isFinite(n) && n > 0 && n <= MAX_TIMER_MILLIS
    ? { value: n }
    : { error: `expected a positive number of milliseconds, at most ${MAX_TIMER_MILLIS}` };
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
