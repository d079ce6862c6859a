import type { KafkaJS } from '@confluentinc/kafka-javascript';

import type { Logger } from '../logging/logger';

/** How long a repeated client warning stays quiet after it was logged. */
const REPEAT_WINDOW_MILLIS = 30_000;
/** Distinct messages remembered; beyond that the memory starts over (bounded, never a leak). */
const MAX_REMEMBERED = 256;

/**
 * Lets a message through once per window and counts the repeats it held back, so a broker outage does not
 * write the same line many times a second ("all broker connections are down").
 */
export class RepeatLimiter {
  readonly #seen = new Map<string, { at: number; held: number }>();
  readonly #windowMillis: number;
  readonly #now: () => number;

  constructor(windowMillis = REPEAT_WINDOW_MILLIS, now: () => number = Date.now) {
    this.#windowMillis = windowMillis;
    this.#now = now;
  }

  /**
   * Undefined when `message` was let through less than a window ago (the repeat is counted); otherwise how
   * many repeats were held back since it was last let through.
   */
  admit(message: string): number | undefined {
    const now = this.#now();
    const entry = this.#seen.get(message);
    if (entry && now - entry.at < this.#windowMillis) {
      entry.held++;
      return undefined;
    }
    if (!entry && this.#seen.size >= MAX_REMEMBERED) this.#seen.clear();
    this.#seen.set(message, { at: now, held: 0 });
    return entry?.held ?? 0;
  }
}

/** A librdkafka log line without its thread tag (`[thrd:host:9092/bootstrap]: `), which repeats the broker it names. */
export function withoutThreadTag(message: string): string {
  return message.replace(/^\[thrd:[^\]]*\]: /, '');
}

/** A misconfigured secure connection no retry cures, recognised in librdkafka's connection log lines. */
export interface ConnectionFailure {
  /** `KAFKA_AUTHENTICATION`, `KAFKA_TLS_VERIFICATION` or `KAFKA_SECURITY_PROTOCOL`. */
  code: 'KAFKA_AUTHENTICATION' | 'KAFKA_TLS_VERIFICATION' | 'KAFKA_SECURITY_PROTOCOL';
  /** The cause and the remedy, naming the config fields and environment variables to check. */
  cause: string;
  /**
   * Whether it may pass by itself: a broker restarting closes connections in the same state as a TLS listener
   * closes a plaintext client's.
   */
  retriable: boolean;
}

// Seen from librdkafka 2.15 against Kafka 4.1 (test/integration/security/connection-errors.test.ts). The
// lines name the broker and never a credential.
const CONNECTION_FAILURES: readonly [RegExp, ConnectionFailure][] = [
  [
    // The connection log line, or the client's error event (`Local: Authentication failure`).
    /SASL authentication error|Authentication failed|^(Error: )?Local: Authentication failure/i,
    {
      code: 'KAFKA_AUTHENTICATION',
      retriable: false,
      cause:
        'the broker rejected the SASL credentials: check kafka.sasl.username, kafka.sasl.password and ' +
        'kafka.sasl.mechanism (OTEL_KAFKA_SASL_USERNAME, _PASSWORD, _MECHANISM)',
    },
  ],
  [
    /certificate verify failed|SSL handshake failed|^(Error: )?Local: SSL error/i,
    {
      code: 'KAFKA_TLS_VERIFICATION',
      retriable: false,
      cause:
        'the TLS handshake with the broker failed (its certificate could not be verified, or the client ' +
        'certificate was refused): check kafka.ssl.caFile (OTEL_KAFKA_CERTIFICATE), that each broker ' +
        'address is a name or IP its certificate holds (hostname verification is on), and kafka.ssl.certFile/keyFile',
    },
  ],
  [
    /connection closed by peer.*in state APIVERSION_QUERY/i,
    {
      code: 'KAFKA_SECURITY_PROTOCOL',
      retriable: true,
      cause:
        'the broker closed the connection before its first answer, as a TLS or SASL listener does to a ' +
        'plaintext client: check kafka.securityProtocol, kafka.ssl and kafka.sasl',
    },
  ],
];

/** The misconfiguration a librdkafka log line reports, if it reports one. */
export function connectionFailureOf(message: string): ConnectionFailure | undefined {
  return CONNECTION_FAILURES.find(([pattern]) => pattern.test(message))?.[1];
}

// librdkafka appends how long the connection lasted and how many identical lines it held back: without that
// suffix, repeats of one failure are one message for the limiter.
const ATTEMPT_SUFFIX = / \(after \d+ms in state [A-Z_]+(, \d+ identical error\(s\) suppressed)?\)$/;

/**
 * Adapts our {@link Logger} to the client's logger interface. librdkafka's connection chatter while a
 * broker is down ("Connect to ... failed") arrives as errors; it is logged at warn, since the library
 * handles it (timeouts, retries) and reports what matters itself. The same warning is logged at most once
 * every 30 s per client, with `repeatsSuppressed` counting what was held back. A line that reports a
 * misconfigured secure connection ({@link connectionFailureOf}) is also logged once per client and cause at
 * error level, naming the cause, and handed to `onConnectionFailure` (each time it is seen).
 */
export function kafkaLogger(
  logger: Logger,
  namespace = 'kafka',
  limiter: RepeatLimiter = new RepeatLimiter(),
  onConnectionFailure?: (failure: ConnectionFailure) => void,
  reported: Set<string> = new Set(),
): KafkaJS.Logger {
  const attrs = (extra?: object): Record<string, unknown> => ({ component: namespace, ...(extra ?? {}) });
  const classify = (message: string): void => {
    const failure = connectionFailureOf(message);
    if (!failure) return;
    if (!reported.has(failure.code)) {
      reported.add(failure.code);
      logger.error(`Kafka connection refused: ${failure.cause}`, { component: namespace, code: failure.code });
    }
    onConnectionFailure?.(failure);
  };
  const warn = (message: string, extra?: object): void => {
    classify(message);
    const held = limiter.admit(message.replace(ATTEMPT_SUFFIX, ''));
    if (held === undefined) return;
    logger.warn(message, held > 0 ? { ...attrs(extra), repeatsSuppressed: held } : attrs(extra));
  };
  const self: KafkaJS.Logger = {
    info: (message, extra) => {
      classify(message);
      logger.debug(message, attrs(extra));
    },
    warn,
    error: warn,
    debug: (message, extra) => logger.debug(message, attrs(extra)),
    namespace: (ns) => kafkaLogger(logger, `${namespace}.${ns}`, limiter, onConnectionFailure, reported),
    setLogLevel: () => undefined,
  };
  return self;
}

/** One line of librdkafka's own log, as a native client's `event.log` hands it over. */
export interface ClientLogLine {
  message: string;
  /** syslog severity: 3 error, 4 warning, 6 info, 7 debug. */
  severity: number;
}

/**
 * Passes a native client's log line to a {@link kafkaLogger}: errors and warnings as warnings (rate-limited),
 * the rest at debug. Every line is checked for a misconfigured secure connection, which librdkafka reports at
 * info level ("connection closed by peer ... in state APIVERSION_QUERY").
 */
export function logClientLine(log: KafkaJS.Logger, line: ClientLogLine): void {
  if (line.severity <= 4) log.warn(line.message);
  else log.info(line.message);
}
