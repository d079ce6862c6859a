// Classifies errors from @confluentinc/kafka-javascript by librdkafka code: which are worth retrying,
// which can never succeed. The client's own `retriable` flag is used only for codes not listed here.
import { KafkaJS } from '@confluentinc/kafka-javascript';

import { OtelKafkaJaegerError, ProduceError } from '../errors/errors';

const CODES = KafkaJS.ErrorCodes as Record<string, number>;

const NAMES = new Map<number, string>(Object.entries(CODES).map(([name, code]) => [code, name]));

/** Transient conditions: the same produce may succeed once brokers, leaders or queue space are back. */
const RETRIABLE = new Set(
  [
    'ERR__TRANSPORT',
    'ERR__MSG_TIMED_OUT',
    'ERR__ALL_BROKERS_DOWN',
    'ERR__TIMED_OUT',
    'ERR__TIMED_OUT_QUEUE',
    'ERR__QUEUE_FULL',
    'ERR__RESOLVE',
    'ERR__WAIT_COORD',
    'ERR__NODE_UPDATE',
    'ERR__UNKNOWN_TOPIC',
    'ERR_UNKNOWN_TOPIC_OR_PART',
    'ERR_LEADER_NOT_AVAILABLE',
    'ERR_NOT_LEADER_FOR_PARTITION',
    'ERR_REQUEST_TIMED_OUT',
    'ERR_BROKER_NOT_AVAILABLE',
    'ERR_REPLICA_NOT_AVAILABLE',
    'ERR_NETWORK_EXCEPTION',
    'ERR_NOT_ENOUGH_REPLICAS',
    'ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND',
    'ERR_NOT_CONTROLLER',
    'ERR_KAFKA_STORAGE_ERROR',
    'ERR_FENCED_LEADER_EPOCH',
    'ERR_UNKNOWN_LEADER_EPOCH',
    'ERR_OUT_OF_ORDER_SEQUENCE_NUMBER',
    'ERR_THROTTLING_QUOTA_EXCEEDED',
  ]
    .map((n) => CODES[n])
    .filter((c): c is number => c !== undefined),
);

/** Conditions that no retry can fix: configuration, authorization, size or a fatal producer state. */
const PERMANENT = new Set(
  [
    'ERR_MSG_SIZE_TOO_LARGE',
    'ERR__MSG_SIZE_TOO_LARGE',
    'ERR_RECORD_LIST_TOO_LARGE',
    'ERR_INVALID_RECORD',
    'ERR_TOPIC_AUTHORIZATION_FAILED',
    'ERR_CLUSTER_AUTHORIZATION_FAILED',
    'ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
    'ERR__AUTHENTICATION',
    'ERR_SASL_AUTHENTICATION_FAILED',
    'ERR__SSL',
    'ERR__FATAL',
    'ERR__INVALID_ARG',
    'ERR_INVALID_REQUIRED_ACKS',
    'ERR_TOPIC_EXCEPTION',
    'ERR_UNSUPPORTED_VERSION',
    'ERR_UNSUPPORTED_COMPRESSION_TYPE',
    'ERR_POLICY_VIOLATION',
  ]
    .map((n) => CODES[n])
    .filter((c): c is number => c !== undefined),
);

/** The librdkafka name of a code, e.g. -192 → `ERR__MSG_TIMED_OUT`. */
export function kafkaErrorName(code: number): string | undefined {
  return NAMES.get(code);
}

/** Whether an error with this librdkafka code may succeed when retried; undefined when unknown. */
export function isRetriableKafkaCode(code: number): boolean | undefined {
  if (RETRIABLE.has(code)) return true;
  if (PERMANENT.has(code)) return false;
  return undefined;
}

/** The librdkafka code on an error from the client, if it has one. */
export function kafkaCodeOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/** Wraps any error from the Kafka client in a {@link ProduceError} classified by its librdkafka code. */
export function toProduceError(err: unknown, context: string): OtelKafkaJaegerError {
  if (err instanceof OtelKafkaJaegerError) return err;
  const code = kafkaCodeOf(err);
  const name = code === undefined ? undefined : kafkaErrorName(code);
  const fromCode = code === undefined ? undefined : isRetriableKafkaCode(code);
  const fromClient = (err as { retriable?: unknown } | null)?.retriable;
  const retriable = fromCode ?? (typeof fromClient === 'boolean' ? fromClient : true);
  const detail = err instanceof Error ? err.message : String(err);
  return new ProduceError(`${context}: ${name ? `${name}: ` : ''}${detail}`, {
    retriable,
    kafkaCode: code,
    kafkaName: name,
    cause: err,
  });
}
