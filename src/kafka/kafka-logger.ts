import type { KafkaJS } from '@confluentinc/kafka-javascript';

import type { Logger } from '../logging/logger';

/**
 * Adapts our {@link Logger} to the client's logger interface. librdkafka's connection chatter while a
 * broker is down ("Connect to ... failed") arrives as errors; it is logged at warn, since the library
 * handles it (timeouts, retries) and reports what matters itself.
 */
export function kafkaLogger(logger: Logger, namespace = 'kafka'): KafkaJS.Logger {
  const attrs = (extra?: object): Record<string, unknown> => ({ component: namespace, ...(extra ?? {}) });
  const self: KafkaJS.Logger = {
    info: (message, extra) => logger.debug(message, attrs(extra)),
    warn: (message, extra) => logger.warn(message, attrs(extra)),
    error: (message, extra) => logger.warn(message, attrs(extra)),
    debug: (message, extra) => logger.debug(message, attrs(extra)),
    namespace: (ns) => kafkaLogger(logger, `${namespace}.${ns}`),
    setLogLevel: () => undefined,
  };
  return self;
}
