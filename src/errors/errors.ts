import { boundedText } from './bounded-text';

/**
 * The codes every error of this library carries in {@link OtelKafkaJaegerError.code}.
 *
 * - `CONFIG_INVALID`: a configuration value is wrong ({@link ConfigError}).
 * - `SERIALIZATION_FAILED`: spans could not be encoded, or a record could not be decoded.
 * - `PRODUCE_FAILED`: Kafka did not acknowledge a message ({@link ProduceError}).
 * - `MESSAGE_TOO_LARGE`: a single span is larger than the producer's `message.max.bytes`.
 * - `EXPORT_TIMEOUT`: an export did not complete within `exporter.timeoutMillis`.
 * - `SHUTDOWN`: the component was shut down.
 * - `SINK_FAILED`: the sink (Jaeger) refused or failed a request ({@link SinkError}).
 * - `RETRIES_EXHAUSTED`: the retry policy gave up ({@link RetriesExhaustedError}).
 * - `SPOOL_FULL`: the exporter's spool reached `exporter.spool.maxBytes`; new spans are dropped ({@link SpoolError}).
 * - `SPOOL_LOCKED`: another live process holds the spool directory ({@link SpoolError}).
 * - `SPOOL_FAILED`: the spool could not be written or read (a file system error; {@link SpoolError}).
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'SERIALIZATION_FAILED'
  | 'PRODUCE_FAILED'
  | 'MESSAGE_TOO_LARGE'
  | 'EXPORT_TIMEOUT'
  | 'SHUTDOWN'
  | 'SINK_FAILED'
  | 'RETRIES_EXHAUSTED'
  | 'KAFKA_UNAVAILABLE'
  | 'KAFKA_AUTHENTICATION'
  | 'KAFKA_TLS_VERIFICATION'
  | 'KAFKA_SECURITY_PROTOCOL'
  | 'SPOOL_FULL'
  | 'SPOOL_LOCKED'
  | 'SPOOL_FAILED';

/** Options every error of this library accepts. */
export interface OtelKafkaJaegerErrorOptions {
  /** What went wrong, as a stable string code. */
  code: ErrorCode;
  /** Whether trying the same operation again may succeed. @defaultValue `false` */
  retriable?: boolean;
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * The base class of every error this library throws or reports.
 *
 * @remarks
 * Branch on {@link OtelKafkaJaegerError.code} (stable) rather than on the message (for humans).
 * {@link OtelKafkaJaegerError.retriable} says whether the same operation may succeed later.
 *
 * @example
 * ```ts
 * if (err instanceof OtelKafkaJaegerError && err.retriable) scheduleRetry();
 * ```
 */
export class OtelKafkaJaegerError extends Error {
  /** The stable code of this error. */
  readonly code: ErrorCode;
  /** Whether trying the same operation again may succeed. */
  readonly retriable: boolean;

  /**
   * @param message - What went wrong; control characters are escaped and it is cut at 2,048 characters (it
   *   may quote record content, which a hostile producer controls).
   * @param options - Code, retriability and cause.
   */
  constructor(message: string, options: OtelKafkaJaegerErrorOptions) {
    super(boundedText(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.retriable = options.retriable ?? false;
  }
}

/**
 * A configuration value is invalid. Thrown at construction; names the field and what is allowed.
 *
 * @example
 * ```ts
 * try { new KafkaSpanExporter({ kafka: { brokers: [] } }); }
 * catch (err) { if (err instanceof ConfigError) console.error(err.field); } // 'kafka.brokers'
 * ```
 */
export class ConfigError extends OtelKafkaJaegerError {
  /** The dotted path of the offending field, e.g. `exporter.timeoutMillis`. */
  readonly field: string;

  constructor(field: string, message: string) {
    super(`invalid config ${field}: ${message}`, { code: 'CONFIG_INVALID' });
    this.field = field;
  }
}

/**
 * Spans could not be encoded, or a Kafka record could not be decoded as OTLP.
 *
 * @example
 * ```ts
 * if (err instanceof SerializationError) deadLetter(record);
 * ```
 */
export class SerializationError extends OtelKafkaJaegerError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'SERIALIZATION_FAILED', cause });
  }
}

/** Options of {@link ProduceError}. */
export interface ProduceErrorOptions {
  /** Whether producing again may succeed. @defaultValue `false` */
  retriable?: boolean;
  /** The librdkafka error code (negative: local, positive: broker), when known. */
  kafkaCode?: number;
  /** The librdkafka error name, e.g. `ERR__MSG_TIMED_OUT`, when known. */
  kafkaName?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * Kafka did not acknowledge a message: the broker is unreachable, the local queue is full, the topic does
 * not exist, authorization failed, ...
 *
 * @example
 * ```ts
 * if (err instanceof ProduceError) console.warn(err.kafkaName, err.retriable);
 * ```
 */
export class ProduceError extends OtelKafkaJaegerError {
  /** The librdkafka error code, when known. */
  readonly kafkaCode: number | undefined;
  /** The librdkafka error name, when known. */
  readonly kafkaName: string | undefined;

  constructor(message: string, options: ProduceErrorOptions = {}) {
    super(message, { code: 'PRODUCE_FAILED', retriable: options.retriable, cause: options.cause });
    this.kafkaCode = options.kafkaCode;
    this.kafkaName = options.kafkaName;
  }
}

/**
 * A single span (or record) is larger than the largest message Kafka accepts, so it can never be
 * produced. It is counted as failed, never dropped silently.
 *
 * @example
 * ```ts
 * if (err instanceof MessageTooLargeError) console.warn(`${err.sizeBytes} > ${err.maxBytes}`);
 * ```
 */
export class MessageTooLargeError extends OtelKafkaJaegerError {
  /** Encoded size of the smallest unit that could not be split further. */
  readonly sizeBytes: number;
  /** The limit it exceeded (`message.max.bytes`). */
  readonly maxBytes: number;

  constructor(message: string, sizeBytes: number, maxBytes: number) {
    super(message, { code: 'MESSAGE_TOO_LARGE' });
    this.sizeBytes = sizeBytes;
    this.maxBytes = maxBytes;
  }
}

/**
 * An operation did not finish within its time limit.
 *
 * @example
 * ```ts
 * if (err instanceof TimeoutError) console.warn(`gave up after ${err.timeoutMillis} ms`);
 * ```
 */
export class TimeoutError extends OtelKafkaJaegerError {
  /** The limit that passed. */
  readonly timeoutMillis: number;

  constructor(message: string, timeoutMillis: number) {
    super(message, { code: 'EXPORT_TIMEOUT', retriable: true });
    this.timeoutMillis = timeoutMillis;
  }
}

/**
 * The exporter or forwarder was shut down; the operation was not attempted or was abandoned.
 *
 * @example
 * ```ts
 * if (err instanceof ShutdownError) return; // expected while the process exits
 * ```
 */
export class ShutdownError extends OtelKafkaJaegerError {
  constructor(message = 'shut down') {
    super(message, { code: 'SHUTDOWN' });
  }
}

/**
 * The exporter's durable spool refused spans: it is full (`SPOOL_FULL`), its directory belongs to another
 * live process (`SPOOL_LOCKED`, thrown by the constructor), or the file system failed (`SPOOL_FAILED`).
 *
 * @example
 * ```ts
 * if (err instanceof SpoolError && err.code === 'SPOOL_LOCKED') console.error(err.message); // names the pid
 * ```
 */
export class SpoolError extends OtelKafkaJaegerError {
  constructor(message: string, code: 'SPOOL_FULL' | 'SPOOL_LOCKED' | 'SPOOL_FAILED', cause?: unknown) {
    super(message, { code, retriable: code !== 'SPOOL_LOCKED', cause });
  }
}

/** Options of {@link SinkError}. */
export interface SinkErrorOptions {
  /** Whether sending the same data again may succeed. */
  retriable: boolean;
  /** HTTP status of the reply, when there was one. */
  httpStatus?: number;
  /** gRPC status code of the reply, when there was one. */
  grpcCode?: number;
  /** A delay the sink asked for (`Retry-After`, gRPC retry info), in milliseconds. */
  retryAfterMillis?: number;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * The sink (Jaeger) refused a request or could not be reached.
 *
 * @remarks
 * Retriable (connection refused or reset, timeouts, HTTP 429 and 5xx, gRPC UNAVAILABLE, ...): the data
 * will be sent again. Permanent (HTTP 400 and other 4xx, ...): the data can never be accepted as is.
 *
 * @example
 * ```ts
 * throw new SinkError('HTTP 503', { retriable: true, httpStatus: 503, retryAfterMillis: 2_000 });
 * ```
 */
export class SinkError extends OtelKafkaJaegerError {
  /** HTTP status of the reply, when there was one. */
  readonly httpStatus: number | undefined;
  /** gRPC status code of the reply, when there was one. */
  readonly grpcCode: number | undefined;
  /** A delay the sink asked for, in milliseconds. */
  readonly retryAfterMillis: number | undefined;

  constructor(message: string, options: SinkErrorOptions) {
    super(message, { code: 'SINK_FAILED', retriable: options.retriable, cause: options.cause });
    this.httpStatus = options.httpStatus;
    this.grpcCode = options.grpcCode;
    this.retryAfterMillis = options.retryAfterMillis;
  }
}

/**
 * The retry policy gave up. Says how many attempts were made and keeps their errors (the last ones, when there
 * were many), oldest first.
 *
 * @example
 * ```ts
 * if (err instanceof RetriesExhaustedError) console.warn(err.attempts, err.errors.at(-1));
 * ```
 */
export class RetriesExhaustedError extends OtelKafkaJaegerError {
  /** How many attempts were made. */
  readonly attempts: number;
  /**
   * The errors of the attempts, oldest first: of every attempt, or of the last ones when there were many (the
   * retry loops keep at most 10); the last one is also the `cause`.
   */
  readonly errors: readonly unknown[];

  /**
   * @param message - What was retried, how often, and the last error.
   * @param errors - The errors of the attempts, oldest first (the last ones, when not all were kept).
   * @param attempts - How many attempts were made. @defaultValue `errors.length`
   */
  constructor(message: string, errors: readonly unknown[], attempts: number = errors.length) {
    super(message, { code: 'RETRIES_EXHAUSTED', cause: errors.at(-1) });
    this.attempts = attempts;
    this.errors = errors;
  }
}

/** True when `err` says retrying may help: our errors by their flag, anything else is assumed retriable. */
export function isRetriable(err: unknown): boolean {
  if (err instanceof OtelKafkaJaegerError) return err.retriable;
  return true;
}
