import { resolveCommon } from '../../../src/config/common';
import { unknownConfigFields } from '../../../src/config/unknown-keys';
import { noRetry } from '../../../src/retry/no-retry';

describe('unknownConfigFields', () => {
  it('checks kafka.tls like kafka.ssl', () => {
    expect(unknownConfigFields({ kafka: { tls: { caFile: 'ca', cafile: 'x' } } })).toEqual(['kafka.tls.cafile']);
  });

  it('finds misspelt fields at every level it knows', () => {
    expect(
      unknownConfigFields({
        kafka: { brokers: ['b:9092'], brokerList: 'x', ssl: { caFile: 'ca', cafile: 'x' }, sasl: { user: 'u' } },
        exporter: { timeout: 5_000, timeoutMillis: 5_000 },
        retry: { maxDelay: 10 },
        forwarder: {
          groupID: 'g',
          batch: { maxRecords: 1, records: 2 },
          deadLetter: { topic: 't', topc: 'x' },
          sink: { type: 'otlp-http', url: 'http://h:4318/v1/traces', timeout: 1 },
        },
        exporters: {},
      }).sort(),
    ).toEqual(
      [
        'exporters',
        'kafka.brokerList',
        'kafka.ssl.cafile',
        'kafka.sasl.user',
        'exporter.timeout',
        'retry.maxDelay',
        'forwarder.groupID',
        'forwarder.batch.records',
        'forwarder.deadLetter.topc',
        'forwarder.sink.timeout',
      ].sort(),
    );
  });

  it('accepts every documented field and does not look into custom objects or the rdkafka passthrough', () => {
    const sink = { name: 'mine', send: () => Promise.resolve(), close: () => Promise.resolve(), extra: 1 };
    expect(
      unknownConfigFields({
        kafka: {
          brokers: ['b:9092'],
          topic: 't',
          clientId: 'c',
          securityProtocol: 'sasl_ssl',
          ssl: { caFile: 'a', certFile: 'b', keyFile: 'c', keyPassword: 'd', rejectUnauthorized: true },
          sasl: { mechanism: 'plain', username: 'u', password: 'p' },
          rdkafka: { 'socket.keepalive.enable': true },
        },
        serializer: 'otlp_proto',
        retry: {
          initialDelayMillis: 1,
          maxDelayMillis: 2,
          multiplier: 2,
          jitter: 0,
          maxAttempts: 3,
          random: () => 0.5,
        },
        exporter: {
          timeoutMillis: 1,
          partitionByTraceId: true,
          compression: 'zstd',
          maxMessageBytes: 5_000,
          lingerMillis: 0,
          maxQueueBytes: 2 ** 20,
        },
        forwarder: {
          groupId: 'g',
          sink,
          deadLetter: { topic: 't.dlq', onUndeliverable: 'dead-letter' },
          onUndeliverable: 'dead-letter',
          batch: { maxRecords: 1, maxBytes: 2, lingerMillis: 3 },
          maxInFlightRequests: 2,
          maxBufferedBytes: 3,
          commitIntervalMillis: 4,
          stopTimeoutMillis: 5,
        },
        meterProvider: undefined,
        logger: undefined,
      }),
    ).toEqual([]);
    expect(unknownConfigFields({ retry: noRetry() })).toEqual([]);
    for (const sinkConfig of [
      { type: 'otlp-http', url: 'u', headers: {}, timeoutMillis: 1, compression: 'gzip', encoding: 'json' },
      { type: 'otlp-grpc', url: 'u', headers: {}, timeoutMillis: 1, compression: 'gzip' },
      { type: 'jaeger-thrift-http', url: 'u', headers: {}, timeoutMillis: 1, maxRequestBytes: 9 },
    ]) {
      expect(unknownConfigFields({ forwarder: { sink: sinkConfig } })).toEqual([]);
    }
  });

  it('is reported once as a warning when the configuration is resolved', () => {
    const warnings: [string, Record<string, unknown> | undefined][] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      error: () => {},
      warn: (m: string, a?: Record<string, unknown>) => warnings.push([m, a]),
    };
    resolveCommon({ logger, exporter: { timeout: 5 } });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]![1]).toEqual({ fields: 'exporter.timeout' });
  });
});
