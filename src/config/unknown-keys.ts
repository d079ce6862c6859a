// Fields the configuration does not know: a typo (`exporter.timeout` for `exporter.timeoutMillis`) would
// otherwise be ignored in silence and the default used. They are reported, not rejected, so a config written
// for a newer version still works with this one.

/**
 * `kafka.ssl`'s (and its alias `kafka.tls`'s) fields. KafkaJS's inline ca/cert/key/passphrase count as known:
 * resolving refuses them with a pointer to the file options, rather than this saying they are ignored.
 */
const TLS_FIELDS = [
  'caFile',
  'certFile',
  'keyFile',
  'keyPassword',
  'rejectUnauthorized',
  'ca',
  'cert',
  'key',
  'passphrase',
] as const;

/** The known fields of each plain-object section, by dotted path. */
const KNOWN: Record<string, readonly string[]> = {
  '': ['kafka', 'serializer', 'retry', 'exporter', 'forwarder', 'meterProvider', 'logger'],
  kafka: ['brokers', 'topic', 'clientId', 'connectTimeoutMillis', 'securityProtocol', 'ssl', 'tls', 'sasl', 'rdkafka'],
  'kafka.ssl': TLS_FIELDS,
  'kafka.tls': TLS_FIELDS,
  'kafka.sasl': ['mechanism', 'username', 'password'],
  retry: ['initialDelayMillis', 'maxDelayMillis', 'multiplier', 'jitter', 'maxAttempts', 'random'],
  exporter: [
    'timeoutMillis',
    'messagePer',
    'partitionByTraceId',
    'compression',
    'maxMessageBytes',
    'lingerMillis',
    'maxQueueBytes',
    'spool',
  ],
  'exporter.spool': ['directory', 'maxBytes', 'fsync', 'segmentBytes', 'drainBytesPerSecond'],
  forwarder: [
    'groupId',
    'sink',
    'deadLetter',
    'onUndeliverable',
    'batch',
    'maxInFlightRequests',
    'maxBufferedBytes',
    'commitIntervalMillis',
    'stopTimeoutMillis',
  ],
  'forwarder.deadLetter': ['topic', 'onUndeliverable'],
  'forwarder.batch': ['maxRecords', 'maxBytes', 'lingerMillis'],
  'forwarder.sink:otlp-http': ['type', 'url', 'headers', 'timeoutMillis', 'compression', 'encoding', 'endpointErrors'],
  'forwarder.sink:otlp-grpc': ['type', 'url', 'headers', 'timeoutMillis', 'compression', 'endpointErrors'],
  'forwarder.sink:jaeger-thrift-http': ['type', 'url', 'headers', 'timeoutMillis', 'maxRequestBytes', 'endpointErrors'],
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function unknownIn(path: string, known: readonly string[], value: unknown): string[] {
  if (!isPlainObject(value)) return [];
  return Object.keys(value)
    .filter((k) => !known.includes(k))
    .map((k) => (path ? `${path}.${k}` : k));
}

/**
 * The dotted paths of fields in `config` that no version of the configuration defines. Custom objects (a
 * `Sink`, a `RetryPolicy`, a `SpanSerializer`, a logger) and `kafka.rdkafka` are not looked into.
 */
export function unknownConfigFields(config: unknown): string[] {
  if (!isPlainObject(config)) return [];
  const found = unknownIn('', KNOWN['']!, config);
  const section = (path: string, value: unknown): void => {
    found.push(...unknownIn(path, KNOWN[path]!, value));
  };
  const kafka = config.kafka;
  section('kafka', kafka);
  if (isPlainObject(kafka)) {
    section('kafka.ssl', kafka.ssl);
    section('kafka.tls', kafka.tls);
    section('kafka.sasl', kafka.sasl);
  }
  // A RetryPolicy is a class instance or an object with `nextDelay`: only plain option objects are checked.
  const retry = config.retry;
  if (isPlainObject(retry) && typeof retry.nextDelay !== 'function') section('retry', retry);
  section('exporter', config.exporter);
  if (isPlainObject(config.exporter)) section('exporter.spool', config.exporter.spool);
  const forwarder = config.forwarder;
  section('forwarder', forwarder);
  if (isPlainObject(forwarder)) {
    section('forwarder.deadLetter', forwarder.deadLetter);
    section('forwarder.batch', forwarder.batch);
    const sink = forwarder.sink;
    if (isPlainObject(sink) && typeof sink.send !== 'function' && typeof sink.type === 'string') {
      const known = KNOWN[`forwarder.sink:${sink.type}`];
      if (known) found.push(...unknownIn('forwarder.sink', known, sink));
    }
  }
  return found;
}
