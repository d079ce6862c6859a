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

/**
 * Adapts our {@link Logger} to the client's logger interface. librdkafka's connection chatter while a
 * broker is down ("Connect to ... failed") arrives as errors; it is logged at warn, since the library
 * handles it (timeouts, retries) and reports what matters itself. The same warning is logged at most once
 * every 30 s per client, with `repeatsSuppressed` counting what was held back.
 */
export function kafkaLogger(
  logger: Logger,
  namespace = 'kafka',
  limiter: RepeatLimiter = new RepeatLimiter(),
): KafkaJS.Logger {
  const attrs = (extra?: object): Record<string, unknown> => ({ component: namespace, ...(extra ?? {}) });
  const warn = (message: string, extra?: object): void => {
    const held = limiter.admit(message);
    if (held === undefined) return;
    logger.warn(message, held > 0 ? { ...attrs(extra), repeatsSuppressed: held } : attrs(extra));
  };
  const self: KafkaJS.Logger = {
    info: (message, extra) => logger.debug(message, attrs(extra)),
    warn,
    error: warn,
    debug: (message, extra) => logger.debug(message, attrs(extra)),
    namespace: (ns) => kafkaLogger(logger, `${namespace}.${ns}`, limiter),
    setLogLevel: () => undefined,
  };
  return self;
}
