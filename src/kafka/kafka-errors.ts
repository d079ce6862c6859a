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
    'ERR_INVALID_CONFIG',
    'ERR_UNSUPPORTED_SASL_MECHANISM',
    'ERR_ILLEGAL_SASL_STATE',
  ]
    .map((n) => CODES[n])
    .filter((c): c is number => c !== undefined),
);

/** Why a permanent produce error happens and what the operator does about it, by librdkafka name. */
const REMEDIES: Readonly<Record<string, (topic: string) => string>> = {
  ERR__AUTHENTICATION: () =>
    'authentication failed: check kafka.sasl (or the sasl.* properties of kafka.rdkafka) and the security protocol',
  ERR_SASL_AUTHENTICATION_FAILED: () =>
    'the broker rejected the SASL credentials: check kafka.sasl (or sasl.* in kafka.rdkafka)',
  ERR_UNSUPPORTED_SASL_MECHANISM: () =>
    'the broker does not offer this SASL mechanism: check kafka.sasl.mechanism (or sasl.mechanisms in kafka.rdkafka)',
  ERR_ILLEGAL_SASL_STATE: () => 'the SASL handshake failed: check kafka.securityProtocol and kafka.sasl',
  ERR__SSL: () =>
    'the TLS handshake failed: check kafka.ssl (or the ssl.* properties of kafka.rdkafka: CA, certificate, key)',
  ERR_TOPIC_AUTHORIZATION_FAILED: (topic) =>
    `the principal may not write to ${topic}: grant it WRITE (and DESCRIBE) on topic ${topic}`,
  ERR_CLUSTER_AUTHORIZATION_FAILED: () =>
    'the principal lacks a cluster permission: grant it IDEMPOTENT_WRITE on the cluster (idempotent producer)',
  ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED: () =>
    'the principal may not use its transactional id: grant it WRITE on the transactional id',
  ERR_MSG_SIZE_TOO_LARGE: (topic) => `the message is larger than ${topic} accepts: raise ${topic}'s max.message.bytes`,
  ERR_RECORD_LIST_TOO_LARGE: (topic) =>
    `the message is larger than ${topic} accepts: raise ${topic}'s max.message.bytes`,
  ERR__INVALID_ARG: () => 'librdkafka refused an argument: check kafka.rdkafka',
  ERR_INVALID_CONFIG: () => 'the broker refused a configuration value: check kafka.rdkafka',
  ERR_INVALID_REQUIRED_ACKS: () => "the broker refused the acks setting: check kafka.rdkafka['acks']",
  ERR_UNSUPPORTED_COMPRESSION_TYPE: () =>
    "the broker does not support the compression codec: set kafka.rdkafka['compression.codec']",
  ERR_POLICY_VIOLATION: (topic) => `a broker policy refused the request on ${topic}: check the topic's settings`,
  ERR_TOPIC_EXCEPTION: (topic) => `${topic} is not a valid topic name`,
};

/**
 * What an operator must fix for a produce to `topic` that failed permanently with this librdkafka code: a
 * sentence naming the cause and the remedy (a generic one for codes without their own).
 */
export function permanentProduceRemedy(code: number | undefined, topic: string): string {
  const name = code === undefined ? undefined : kafkaErrorName(code);
  const remedy = name === undefined ? undefined : REMEDIES[name];
  return remedy
    ? remedy(topic)
    : `fix the cause of ${name ?? 'this error'} (the broker, kafka.rdkafka, or the permissions on ${topic})`;
}

/** Whether a librdkafka code says a message is larger than the client or the topic accepts. */
export function isMessageTooLargeCode(code: number | undefined): boolean {
  return code !== undefined && (code === CODES.ERR_MSG_SIZE_TOO_LARGE || code === CODES.ERR_RECORD_LIST_TOO_LARGE);
}

/** Whether a librdkafka code says the topic does not exist (the broker's answer or librdkafka's own). */
export function isUnknownTopicCode(code: number | undefined): boolean {
  return code !== undefined && (code === CODES.ERR_UNKNOWN_TOPIC_OR_PART || code === CODES.ERR__UNKNOWN_TOPIC);
}

/**
 * Whether a librdkafka code says the broker refused a new topic's configuration: a create-topic policy
 * (managed clusters cap `max.message.bytes` per topic) or a value the broker does not accept.
 */
export function isTopicConfigRefusedCode(code: number | undefined): boolean {
  return code !== undefined && (code === CODES.ERR_POLICY_VIOLATION || code === CODES.ERR_INVALID_CONFIG);
}

/** Whether a librdkafka code says the broker cannot place a new topic's replicas (too few brokers). */
export function isInvalidReplicationFactorCode(code: number | undefined): boolean {
  return code !== undefined && code === CODES.ERR_INVALID_REPLICATION_FACTOR;
}

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
