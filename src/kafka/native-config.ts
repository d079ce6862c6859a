// The native client checks each property when a client object is constructed, before any connection: an
// unknown property or an invalid value throws there. The exporter constructs its producer lazily (so that it
// works once Kafka is up), which would turn a typo in `kafka.rdkafka` into a retriable failure of every
// export. Constructing a throwaway native Producer at construction time (it only builds a librdkafka conf
// object: no handle, no thread, no socket) turns it into a ConfigError instead.
import kafkaJavascript from '@confluentinc/kafka-javascript';

import type { RdKafkaValue } from '../config/types';
import { ConfigError } from '../errors/errors';
import { isSecretProperty } from './client-config';
import type { RdKafkaConfig } from './client-config';

function rejection(props: RdKafkaConfig): string | undefined {
  try {
    new kafkaJavascript.Producer({ ...props });
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** `message` with the values of secret properties blanked out. */
function scrub(message: string, props: RdKafkaConfig): string {
  let out = message;
  for (const [key, value] of Object.entries(props)) {
    const text = String(value);
    if (isSecretProperty(key) && text !== '') out = out.split(text).join('[redacted]');
  }
  return out;
}

/**
 * Throws a {@link ConfigError} when librdkafka rejects a property of `props`: naming
 * `kafka.rdkafka['<property>']` when the passthrough holds the culprit. Secret values are never shown.
 */
export function assertProducerConfigAccepted(props: RdKafkaConfig, passthrough: Record<string, RdKafkaValue>): void {
  const problem = rejection(props);
  if (problem === undefined) return;
  // librdkafka checks properties one by one, so the culprit is the one rejected on its own.
  for (const [key, value] of Object.entries(passthrough)) {
    const own = rejection({ [key]: value });
    if (own !== undefined) {
      throw new ConfigError(`kafka.rdkafka['${key}']`, `librdkafka rejects it: ${scrub(own, { [key]: value })}`);
    }
  }
  throw new ConfigError('kafka', `librdkafka rejects the producer configuration: ${scrub(problem, props)}`);
}
