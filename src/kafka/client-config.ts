// Maps the resolved config onto librdkafka properties. Only librdkafka names are used (no `kafkaJS`
// block), so the passthrough `rdkafka` section can override anything, applied last.
import type { ResolvedExporterConfig } from '../config/exporter';
import type { ResolvedKafkaConfig } from '../config/kafka';
import type { RdKafkaValue } from '../config/types';

export type RdKafkaConfig = Record<string, RdKafkaValue>;

const SASL_MECHANISMS = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

/** Connection properties shared by producers, consumers and admin clients. */
export function commonRdKafkaConfig(kafka: ResolvedKafkaConfig): RdKafkaConfig {
  const props: RdKafkaConfig = {
    'bootstrap.servers': kafka.brokers.join(','),
    'client.id': kafka.clientId,
    'security.protocol': kafka.securityProtocol,
  };
  if (kafka.tls) {
    if (kafka.tls.caFile) props['ssl.ca.location'] = kafka.tls.caFile;
    if (kafka.tls.certFile) props['ssl.certificate.location'] = kafka.tls.certFile;
    if (kafka.tls.keyFile) props['ssl.key.location'] = kafka.tls.keyFile;
    if (kafka.tls.keyPassword) props['ssl.key.password'] = kafka.tls.keyPassword;
    props['enable.ssl.certificate.verification'] = kafka.tls.rejectUnauthorized;
    // Hostname verification: librdkafka 2.x's default, set here so a passthrough or a future default cannot
    // silently drop it (test/integration/security/connection-errors.test.ts dials a name the certificate lacks).
    props['ssl.endpoint.identification.algorithm'] = kafka.tls.rejectUnauthorized ? 'https' : 'none';
  }
  if (kafka.sasl) {
    props['sasl.mechanisms'] = SASL_MECHANISMS[kafka.sasl.mechanism];
    props['sasl.username'] = kafka.sasl.username;
    props['sasl.password'] = kafka.sasl.password;
  }
  return props;
}

// librdkafka's own role of each property (the C/P column of CONFIGURATION.md, librdkafka 2.15): one set on
// a client of the other role is ignored with a warning at every start. The `kafka.rdkafka` passthrough is
// shared by both sides, so each client takes the part meant for its role.
const PRODUCER_ONLY = new Set([
  'transactional.id',
  'transaction.timeout.ms',
  'enable.idempotence',
  'enable.gapless.guarantee',
  'queue.buffering.max.messages',
  'queue.buffering.max.kbytes',
  'queue.buffering.max.ms',
  'queue.buffering.backpressure.threshold',
  'linger.ms',
  'message.send.max.retries',
  'retries',
  'compression.codec',
  'compression.type',
  'compression.level',
  'batch.num.messages',
  'batch.size',
  'delivery.report.only.error',
  'dr_cb',
  'dr_msg_cb',
  'sticky.partitioning.linger.ms',
  'request.required.acks',
  'acks',
  'request.timeout.ms',
  'message.timeout.ms',
  'delivery.timeout.ms',
  'queuing.strategy',
  'produce.offset.report',
  'partitioner',
  'partitioner_cb',
  'msg_order_cmp',
]);

const CONSUMER_ONLY = new Set([
  'group.id',
  'group.instance.id',
  'partition.assignment.strategy',
  'session.timeout.ms',
  'heartbeat.interval.ms',
  'group.protocol.type',
  'group.protocol',
  'group.remote.assignor',
  'coordinator.query.interval.ms',
  'max.poll.interval.ms',
  'enable.auto.commit',
  'auto.commit.enable',
  'auto.commit.interval.ms',
  'enable.auto.offset.store',
  'queued.min.messages',
  'queued.max.messages.kbytes',
  'fetch.wait.max.ms',
  'fetch.queue.backoff.ms',
  'fetch.message.max.bytes',
  'max.partition.fetch.bytes',
  'fetch.max.bytes',
  'fetch.min.bytes',
  'fetch.error.backoff.ms',
  'offset.store.method',
  'offset.store.path',
  'offset.store.sync.interval.ms',
  'isolation.level',
  'consume_cb',
  'rebalance_cb',
  'offset_commit_cb',
  'enable.partition.eof',
  'check.crcs',
  'max.poll.records',
  'share.acknowledgement.mode',
  'auto.offset.reset',
  'consume.callback.max.messages',
]);

function without(props: RdKafkaConfig, ...excluded: ReadonlySet<string>[]): RdKafkaConfig {
  return Object.fromEntries(Object.entries(props).filter(([k]) => !excluded.some((set) => set.has(k))));
}

/** The passthrough properties a consumer takes: all but the producer-only ones. */
export function consumerPassthrough(props: RdKafkaConfig): RdKafkaConfig {
  return without(props, PRODUCER_ONLY);
}

/** The passthrough properties a producer takes: all but the consumer-only ones. */
export function producerPassthrough(props: RdKafkaConfig): RdKafkaConfig {
  return without(props, CONSUMER_ONLY);
}

/**
 * An admin client's properties: connection and security (SASL, TLS, anything else of the passthrough that
 * is neither producer- nor consumer-only). An admin client is a producer-type handle in librdkafka, which
 * would warn about consumer properties, and it produces nothing.
 */
export function adminRdKafkaConfig(kafka: ResolvedKafkaConfig): RdKafkaConfig {
  return { ...commonRdKafkaConfig(kafka), ...without(kafka.rdkafka, PRODUCER_ONLY, CONSUMER_ONLY) };
}

/**
 * A consumer's properties: the common ones, the client's own (`own`), then the passthrough minus its
 * producer-only properties, then `fixed` — properties the client's correctness depends on (e.g. a replay
 * consumer's random group and disabled commits), which the passthrough must not override.
 */
export function consumerRdKafkaConfig(
  kafka: ResolvedKafkaConfig,
  own: RdKafkaConfig = {},
  fixed: RdKafkaConfig = {},
): RdKafkaConfig {
  return { ...commonRdKafkaConfig(kafka), ...own, ...consumerPassthrough(kafka.rdkafka), ...fixed };
}

/**
 * librdkafka's largest `message.max.bytes`. A producer of records someone else sized (dead letters, a DLQ
 * redrive) must not refuse them locally: librdkafka checks the uncompressed size against this limit, while
 * the broker checks the batch as sent (compressed, if at all) against the topic's `max.message.bytes`, the
 * limit that matters.
 */
export const UNBOUNDED_MESSAGE_MAX_BYTES = 1_000_000_000;

/**
 * How long librdkafka waits for a topic it does not know to appear in the metadata before failing its
 * messages with `ERR_UNKNOWN_TOPIC_OR_PART`. librdkafka's default (30 s) equals the message timeout, so a
 * missing dead-letter topic would only ever show as `ERR__MSG_TIMED_OUT`, which says nothing about the topic.
 */
export const DEAD_LETTER_TOPIC_PROPAGATION_MILLIS = 10_000;

/**
 * The producer of dead letters (and of a redrive): acks from all in-sync replicas, idempotent, a missing
 * topic reported as such ({@link DEAD_LETTER_TOPIC_PROPAGATION_MILLIS}), the passthrough minus
 * consumer-only properties, then a local size limit that never refuses a record: a record of up to the
 * source topic's `max.message.bytes` plus its provenance headers must be accepted here, whatever
 * `message.max.bytes` the exporter uses. No compression codec of its own: the dead-letter topic is created
 * large enough for any record uncompressed, and a codec the broker lacks (`ERR_UNSUPPORTED_COMPRESSION_TYPE`)
 * would refuse every dead letter; `kafka.rdkafka['compression.codec']` still applies.
 */
export function deadLetterProducerRdKafkaConfig(kafka: ResolvedKafkaConfig): RdKafkaConfig {
  return {
    ...commonRdKafkaConfig(kafka),
    acks: -1,
    'enable.idempotence': true,
    'linger.ms': 5,
    'message.timeout.ms': 30_000,
    'topic.metadata.propagation.max.ms': DEAD_LETTER_TOPIC_PROPAGATION_MILLIS,
    ...producerPassthrough(kafka.rdkafka),
    'message.max.bytes': UNBOUNDED_MESSAGE_MAX_BYTES,
  };
}

/**
 * The exporter's producer: acks from all in-sync replicas, idempotent (no duplicates or reordering from
 * librdkafka's own retries), bounded queue, and a message timeout inside the export timeout so a delivery
 * report always arrives before the export gives up.
 */
export function producerRdKafkaConfig(kafka: ResolvedKafkaConfig, exporter: ResolvedExporterConfig): RdKafkaConfig {
  return {
    ...commonRdKafkaConfig(kafka),
    acks: -1,
    'enable.idempotence': true,
    'compression.codec': exporter.compression,
    'linger.ms': exporter.lingerMillis,
    'message.max.bytes': exporter.maxMessageBytes,
    'message.timeout.ms': messageTimeoutMillis(exporter.timeoutMillis),
    'queue.buffering.max.kbytes': Math.max(1, Math.floor(exporter.maxQueueBytes / 1024)),
    // Many small in-flight exports: count is not the bound, bytes are.
    'queue.buffering.max.messages': 1_000_000,
    // A BatchSpanProcessor waits for each export's acknowledgement: send at once, as Kafka's Java client
    // does (TCP_NODELAY). With Nagle's algorithm the tail of a request waited for the previous segment's ACK:
    // median produce round trip ×1.4-1.7 measured here (BENCHMARKS.md).
    'socket.nagle.disable': true,
    ...producerPassthrough(kafka.rdkafka),
  };
}

/**
 * librdkafka's message timeout: the export timeout less a margin for the delivery report to arrive. librdkafka
 * scans for timed-out messages about once a second, so the margin is that second plus a half and a tenth of the
 * timeout (at most half of it): with less, the export's own timer fired first on a stalled broker while the
 * message was still queued, and it could be delivered after the export reported FAILED.
 */
export function messageTimeoutMillis(exportTimeoutMillis: number): number {
  const margin = Math.min(exportTimeoutMillis / 2, 1_500 + exportTimeoutMillis * 0.1);
  return Math.max(1, Math.floor(exportTimeoutMillis - margin));
}

const SECRET_KEY = /password|secret|sasl\.oauthbearer\.config|ssl\.key\.pem|ssl_key|private/i;

/** Whether a librdkafka property's value is a secret (never logged or put into an error message). */
export function isSecretProperty(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A copy safe to log: values of secret-looking properties replaced by `[redacted]`. */
export function redact(props: RdKafkaConfig): RdKafkaConfig {
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, isSecretProperty(k) ? '[redacted]' : v]));
}
