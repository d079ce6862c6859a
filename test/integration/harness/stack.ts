// What integration tests know about the stack, and the outage controls they may use.
import { JaegerInstance, KafkaBroker, stackEndpoints } from '../../../scripts/stack/stack';
import type { StackEndpoints } from '../../../scripts/stack/stack';

export const endpoints: StackEndpoints = stackEndpoints();

/**
 * The shared broker, for outage tests (stop, kill -9, start again on the same data). Throws when the
 * stack is external: this project cannot kill processes it does not own.
 */
export function sharedKafka(): KafkaBroker {
  if (endpoints.external) throw new Error('outage controls need the project-managed stack (unset KAFKA_BROKERS)');
  return new KafkaBroker();
}

/** The shared Jaeger, for outage tests; same restriction as {@link sharedKafka}. */
export function sharedJaeger(): JaegerInstance {
  if (endpoints.external) throw new Error('outage controls need the project-managed stack (unset JAEGER_QUERY_URL)');
  return new JaegerInstance();
}
