// Maps the resolved config onto librdkafka properties. Only librdkafka names are used (no `kafkaJS`
// block), so the passthrough `rdkafka` section can override anything, applied last.
import type { ResolvedExporterConfig, ResolvedKafkaConfig } from '../config/resolve-config';
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
  }
  if (kafka.sasl) {
    props['sasl.mechanisms'] = SASL_MECHANISMS[kafka.sasl.mechanism];
    props['sasl.username'] = kafka.sasl.username;
    props['sasl.password'] = kafka.sasl.password;
  }
  return props;
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
    ...kafka.rdkafka,
  };
}

/** librdkafka's message timeout: the export timeout less a margin for the delivery report to arrive. */
export function messageTimeoutMillis(exportTimeoutMillis: number): number {
  return Math.max(1, Math.floor(exportTimeoutMillis - Math.min(1_000, exportTimeoutMillis * 0.1)));
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
