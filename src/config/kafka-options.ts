// The `kafka` section's option types: how to reach Kafka, shared by the exporter and the forwarder.

/** Kafka security protocol (librdkafka `security.protocol`). */
export type SecurityProtocol = 'plaintext' | 'ssl' | 'sasl_plaintext' | 'sasl_ssl';

/** SASL mechanism (librdkafka `sasl.mechanisms`). */
export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** A librdkafka property value passed through unchanged. */
export type RdKafkaValue = string | number | boolean;
/** TLS settings for the Kafka connection. */
export interface KafkaTlsOptions {
  /**
   * Path of a PEM file of CA certificates to trust (librdkafka `ssl.ca.location`).
   * @defaultValue env `OTEL_KAFKA_CERTIFICATE` (or `OTEL_EXPORTER_KAFKA_CERTIFICATE`), else the system's trust store
   */
  caFile?: string;
  /**
   * Path of the client certificate (PEM) for mutual TLS (librdkafka `ssl.certificate.location`).
   * @defaultValue env `OTEL_KAFKA_CLIENT_CERTIFICATE` (or `OTEL_EXPORTER_KAFKA_CLIENT_CERTIFICATE`), else none
   */
  certFile?: string;
  /**
   * Path of the client private key (PEM) for mutual TLS (librdkafka `ssl.key.location`).
   * @defaultValue env `OTEL_KAFKA_CLIENT_KEY` (or `OTEL_EXPORTER_KAFKA_CLIENT_KEY`), else none
   */
  keyFile?: string;
  /**
   * Password of the client private key. Never logged.
   * @defaultValue none
   */
  keyPassword?: string;
  /**
   * Verify the broker's certificate (librdkafka `enable.ssl.certificate.verification`).
   * @defaultValue `true`
   */
  rejectUnauthorized?: boolean;
}

/** SASL authentication. */
export interface KafkaSaslOptions {
  /**
   * The mechanism, in any case (`'SCRAM-SHA-512'` as librdkafka and KafkaJS users write it).
   * @defaultValue env `OTEL_KAFKA_SASL_MECHANISM` (or `OTEL_EXPORTER_KAFKA_SASL_MECHANISM`), else `plain`
   */
  mechanism?: SaslMechanism | Uppercase<SaslMechanism>;
  /**
   * User name.
   * @defaultValue env `OTEL_KAFKA_SASL_USERNAME` (or `OTEL_EXPORTER_KAFKA_SASL_USERNAME`)
   */
  username?: string;
  /**
   * Password. Never logged or put into an error message.
   * @defaultValue env `OTEL_KAFKA_SASL_PASSWORD` (or `OTEL_EXPORTER_KAFKA_SASL_PASSWORD`)
   */
  password?: string;
}

/** How to reach Kafka; shared by the exporter and the forwarder. */
export interface KafkaOptions {
  /**
   * Bootstrap brokers, `host:port` each. Required: in code or in the environment.
   * @defaultValue env `OTEL_KAFKA_BROKERS` (or `OTEL_EXPORTER_KAFKA_BROKERS`), comma-separated; no default
   */
  brokers?: string[];
  /**
   * The topic spans are written to and read from.
   * @defaultValue env `OTEL_KAFKA_TOPIC` (or `OTEL_EXPORTER_KAFKA_TOPIC`), else `otlp_spans` (the OTel
   * Collector's default)
   */
  topic?: string;
  /**
   * Client id reported to the brokers.
   * @defaultValue env `OTEL_KAFKA_CLIENT_ID` (or `OTEL_EXPORTER_KAFKA_CLIENT_ID`), else `otel-kafka-jaeger`
   */
  clientId?: string;
  /**
   * How long connecting to Kafka may take before it fails: the exporter's producer (its exports time out by
   * `exporter.timeoutMillis` meanwhile, and the next export tries again), the forwarder's `start()`, and the
   * consumers of `replay` and the CLI. The wait is made of attempts of 1, 2 and then 4 s at most, so a
   * `shutdown()` / `stop()` abandons a pending connect and the process can exit within 4 s.
   * @defaultValue env `OTEL_KAFKA_CONNECT_TIMEOUT` (milliseconds), else `10000`
   */
  connectTimeoutMillis?: number;
  /**
   * Security protocol.
   * @defaultValue env `OTEL_KAFKA_SECURITY_PROTOCOL` (or `OTEL_EXPORTER_KAFKA_SECURITY_PROTOCOL`), else
   * derived: `sasl_ssl` with `sasl` and `ssl`, `sasl_plaintext` with `sasl` only, `ssl` with `ssl` only,
   * otherwise `plaintext`
   */
  securityProtocol?: SecurityProtocol;
  /**
   * TLS: `true` for TLS with the system's trust store, or the details.
   * @defaultValue `false` (unless the TLS environment variables are set)
   */
  ssl?: boolean | KafkaTlsOptions;
  /** Another name for {@link KafkaOptions.ssl} (set one of them, not both). */
  tls?: boolean | KafkaTlsOptions;
  /**
   * SASL authentication. Set in code, it needs a username and a password (in code or in the environment).
   * From the environment alone, SASL is used only when both `OTEL_KAFKA_SASL_USERNAME` and
   * `OTEL_KAFKA_SASL_PASSWORD` (or their earlier names `OTEL_EXPORTER_KAFKA_SASL_*`) are set (and the
   * mechanism, if set, is valid); an incomplete set is logged as a warning and ignored.
   * @defaultValue none (unless the SASL environment variables are set)
   */
  sasl?: KafkaSaslOptions;
  /**
   * Any librdkafka property, passed through as is and applied last, e.g. `{ 'socket.keepalive.enable': true }`.
   * Values of properties whose name mentions a password or secret are never logged.
   *
   * The exporter checks them when it is constructed: an unknown property or invalid value throws a
   * {@link ConfigError} naming `kafka.rdkafka['<property>']`, and so does an override librdkafka would refuse
   * with the idempotent producer (`acks` other than `all`/`-1`, `max.in.flight` above 5, `retries` 0,
   * unless `enable.idempotence` is `false` too). Overrides that weaken delivery (`enable.idempotence: false`,
   * `acks` 0 or 1, a `message.timeout.ms` beyond the export timeout) are logged as warnings.
   * `message.max.bytes` must be at least 4096; a value below `exporter.maxMessageBytes` lowers the split limit.
   * @defaultValue `{}`
   */
  rdkafka?: Record<string, RdKafkaValue>;
}
