// resolveConfig(): the whole object resolved as plain data, with nothing created. The sink factories are
// wrapped to prove no sink is made, and sockets are watched to prove nothing connects.
import net from 'node:net';

import { resolveConfig } from '../../../src/config/index';
import type { ResolvedConfig } from '../../../src/config/index';
import { createForwarderConfig } from '../../../src/forwarder/forwarder-config';
import { ConfigError } from '../../../src/errors/errors';
import type { Sink } from '../../../src/sinks/sink';
import { otlpGrpcSink } from '../../../src/sinks/otlp-grpc-sink';
import type * as GrpcSinkModule from '../../../src/sinks/otlp-grpc-sink';
import { otlpHttpSink } from '../../../src/sinks/otlp-http-sink';
import type * as HttpSinkModule from '../../../src/sinks/otlp-http-sink';
import { fieldOf, recordingLogger } from '../helpers/config';

jest.mock('../../../src/sinks/otlp-http-sink', () => {
  const actual = jest.requireActual<typeof HttpSinkModule>('../../../src/sinks/otlp-http-sink');
  return { ...actual, otlpHttpSink: jest.fn(actual.otlpHttpSink) };
});
jest.mock('../../../src/sinks/otlp-grpc-sink', () => {
  const actual = jest.requireActual<typeof GrpcSinkModule>('../../../src/sinks/otlp-grpc-sink');
  return { ...actual, otlpGrpcSink: jest.fn(actual.otlpGrpcSink) };
});

const brokers = ['127.0.0.1:9092'];

afterEach(() => jest.restoreAllMocks());

describe('resolveConfig', () => {
  it('resolves every section to its defaults as plain data', () => {
    const resolved: ResolvedConfig = resolveConfig({ kafka: { brokers } }, {});
    expect(resolved).toEqual({
      kafka: {
        brokers,
        topic: 'otlp_spans',
        clientId: 'otel-kafka-jaeger',
        connectTimeoutMillis: 10_000,
        securityProtocol: 'plaintext',
        tls: undefined,
        sasl: undefined,
        rdkafka: {},
      },
      exporter: {
        timeoutMillis: 10_000,
        messagePer: 'partition',
        compression: 'none',
        maxMessageBytes: 1_000_000,
        lingerMillis: 0,
        maxQueueBytes: 64 * 1024 * 1024,
      },
      forwarder: {
        groupId: 'otel-kafka-jaeger',
        sink: {
          type: 'otlp-http',
          url: 'http://localhost:4318/v1/traces',
          headers: {},
          timeoutMillis: 10_000,
          compression: 'none',
          encoding: 'protobuf',
          endpointErrors: 'retry',
        },
        deadLetterTopic: 'otlp_spans.dlq',
        onUndeliverable: 'dead-letter',
        maxRecords: 2_000,
        maxBytes: 4 * 1024 * 1024,
        lingerMillis: 20,
        maxInFlightRequests: 2,
        maxBufferedBytes: 64 * 1024 * 1024,
        commitIntervalMillis: 1_000,
        stopTimeoutMillis: 10_000,
      },
      retry: {
        type: 'exponential-backoff',
        initialDelayMillis: 100,
        maxDelayMillis: 30_000,
        multiplier: 2,
        jitter: 0.2,
        maxAttempts: Infinity,
      },
      serializer: 'otlp_proto',
    });
    // Plain data: it survives a JSON round trip (Infinity aside).
    const { retry: _retry, ...rest } = resolved;
    expect(JSON.parse(JSON.stringify(rest))).toEqual(rest);
  });

  it('creates no sink and opens no socket', () => {
    const connect = jest.spyOn(net.Socket.prototype, 'connect');
    resolveConfig({ kafka: { brokers }, forwarder: { sink: { type: 'otlp-grpc', url: 'http://jaeger:4317' } } }, {});
    resolveConfig({ kafka: { brokers } }, {});
    expect(otlpGrpcSink).not.toHaveBeenCalled();
    expect(otlpHttpSink).not.toHaveBeenCalled();
    expect(connect).not.toHaveBeenCalled();
    // The control: the forwarder's own resolution does create its sink through the wrapped factory.
    createForwarderConfig({ forwarder: { sink: { type: 'otlp-grpc' } } }, 't', {});
    expect(otlpGrpcSink).toHaveBeenCalledTimes(1);
  });

  it('applies code ?? environment ?? default across sections', () => {
    const env = {
      OTEL_EXPORTER_KAFKA_BROKERS: 'k1:9092',
      OTEL_EXPORTER_KAFKA_TOPIC: 'env_topic',
      OTEL_EXPORTER_KAFKA_COMPRESSION: 'zstd',
      OTEL_KAFKA_FORWARDER_GROUP_ID: 'env-group',
      OTEL_KAFKA_FORWARDER_SINK_URL: 'https://jaeger.example:4318/v1/traces',
    };
    const r = resolveConfig({ exporter: { compression: 'gzip' } }, env);
    expect(r.kafka.brokers).toEqual(['k1:9092']);
    expect(r.kafka.topic).toBe('env_topic');
    expect(r.exporter.compression).toBe('gzip');
    expect(r.forwarder.groupId).toBe('env-group');
    expect(r.forwarder.deadLetterTopic).toBe('env_topic.dlq');
    expect(r.forwarder.sink).toMatchObject({ type: 'otlp-http', url: 'https://jaeger.example:4318/v1/traces' });
  });

  it("completes a built-in sink's options with its defaults, per type", () => {
    const grpc = resolveConfig(
      { kafka: { brokers }, forwarder: { sink: { type: 'otlp-grpc', compression: 'gzip' } } },
      {},
    );
    expect(grpc.forwarder.sink).toEqual({
      type: 'otlp-grpc',
      url: 'http://localhost:4317',
      headers: {},
      timeoutMillis: 10_000,
      compression: 'gzip',
      endpointErrors: 'retry',
    });
    const thrift = resolveConfig(
      {
        kafka: { brokers },
        forwarder: { sink: { type: 'jaeger-thrift-http', headers: { authorization: 'Bearer t' } } },
      },
      {},
    );
    expect(thrift.forwarder.sink).toEqual({
      type: 'jaeger-thrift-http',
      url: 'http://localhost:14268/api/traces',
      headers: { authorization: 'Bearer t' },
      timeoutMillis: 10_000,
      maxRequestBytes: 8 * 1024 * 1024,
      endpointErrors: 'retry',
    });
  });

  it('passes a custom sink, retry policy and serializer through unchanged', () => {
    const sink: Sink = { name: 'mine', send: () => Promise.resolve({}), close: () => Promise.resolve() };
    const policy = { nextDelay: () => ({ retry: false as const }) };
    const serializer = { contentType: 'text/plain', serialize: () => new Uint8Array() };
    const r = resolveConfig({ kafka: { brokers }, forwarder: { sink }, retry: policy, serializer }, {});
    expect(r.forwarder.sink).toEqual({ type: 'custom', sink });
    expect(r.forwarder.sink.type === 'custom' && r.forwarder.sink.sink).toBe(sink);
    expect(r.retry).toEqual({ type: 'custom', policy });
    expect(r.serializer).toBe('custom');
  });

  it('resolves backoff options over their defaults', () => {
    const r = resolveConfig({ kafka: { brokers }, retry: { maxAttempts: 5, jitter: 0 } }, {});
    expect(r.retry).toEqual({
      type: 'exponential-backoff',
      initialDelayMillis: 100,
      maxDelayMillis: 30_000,
      multiplier: 2,
      jitter: 0,
      maxAttempts: 5,
    });
  });

  it.each([
    [undefined, 'kafka.brokers'],
    [{ kafka: { brokers }, exporter: { timeoutMillis: -1 } }, 'exporter.timeoutMillis'],
    [{ kafka: { brokers, connectTimeoutMillis: 0 } }, 'kafka.connectTimeoutMillis'],
    [{ kafka: { brokers, connectTimeoutMillis: '5s' } }, 'kafka.connectTimeoutMillis'],
    [{ kafka: { brokers }, forwarder: { batch: { maxRecords: 0 } } }, 'forwarder.batch.maxRecords'],
    [{ kafka: { brokers }, forwarder: { sink: { type: 'otlp-http', url: 'ftp://x' } } }, 'forwarder.sink.url'],
    [
      { kafka: { brokers }, forwarder: { sink: { type: 'otlp-grpc', url: 'http://h:4317/v1/traces' } } },
      'forwarder.sink.url',
    ],
    [{ kafka: { brokers }, forwarder: { sink: { type: 'otlp-http', headers: { a: 1 } } } }, 'forwarder.sink.headers.a'],
    [{ kafka: { brokers }, forwarder: { sink: { type: 'otlp-http', encoding: 'xml' } } }, 'forwarder.sink.encoding'],
    [
      { kafka: { brokers }, forwarder: { sink: { type: 'otlp-grpc', endpointErrors: 'never' } } },
      'forwarder.sink.endpointErrors',
    ],
    [
      { kafka: { brokers }, forwarder: { sink: { type: 'jaeger-thrift-http', maxRequestBytes: 0 } } },
      'forwarder.sink.maxRequestBytes',
    ],
    [{ kafka: { brokers }, retry: { jitter: 2 } }, 'retry.jitter'],
    [{ kafka: { brokers }, serializer: 'avro' }, 'serializer'],
    [{ kafka: { brokers }, meterProvider: {} }, 'meterProvider'],
    [{ kafka: { brokers }, logger: {} }, 'logger'],
    [{ kafka: { brokers, rdkafka: { acks: 1 } } }, "kafka.rdkafka['acks']"],
  ])('%j → ConfigError naming %s', (config, field) => {
    expect(fieldOf(() => resolveConfig(config as never, {}))).toBe(field);
  });

  it('warns (through config.logger) about bad environment values and ignores them', () => {
    const logger = recordingLogger();
    const r = resolveConfig({ kafka: { brokers }, logger }, { OTEL_EXPORTER_KAFKA_TIMEOUT: 'soon' });
    expect(r.exporter.timeoutMillis).toBe(10_000);
    expect(logger.warnings.join('\n')).toMatch(/OTEL_EXPORTER_KAFKA_TIMEOUT/);
  });

  it('takes kafka.connectTimeoutMillis from code, else OTEL_KAFKA_CONNECT_TIMEOUT, else 10 s', () => {
    const env = { OTEL_KAFKA_CONNECT_TIMEOUT: '2500' };
    expect(resolveConfig({ kafka: { brokers } }, env).kafka.connectTimeoutMillis).toBe(2_500);
    expect(resolveConfig({ kafka: { brokers, connectTimeoutMillis: 700 } }, env).kafka.connectTimeoutMillis).toBe(700);
    const logger = recordingLogger();
    const r = resolveConfig({ kafka: { brokers }, logger }, { OTEL_KAFKA_CONNECT_TIMEOUT: 'never' });
    expect(r.kafka.connectTimeoutMillis).toBe(10_000);
    expect(logger.warnings.join('\n')).toMatch(/OTEL_KAFKA_CONNECT_TIMEOUT/);
  });
});

describe('OTEL_KAFKA_FORWARDER_SINK_URL', () => {
  const withCredentials = 'ftp://user:s3cr3t@jaeger:4318/v1/traces';

  it('warns without echoing the value and falls back to the default when malformed', () => {
    for (const bad of [withCredentials, 'not a url', 'http//missing-colon']) {
      const logger = recordingLogger();
      const r = resolveConfig({ kafka: { brokers }, logger }, { OTEL_KAFKA_FORWARDER_SINK_URL: bad });
      expect(r.forwarder.sink).toMatchObject({ type: 'otlp-http', url: 'http://localhost:4318/v1/traces' });
      const warnings = logger.warnings.join('\n');
      expect(warnings).toMatch(/OTEL_KAFKA_FORWARDER_SINK_URL/);
      expect(warnings).not.toContain('s3cr3t');
      expect(warnings).not.toContain(bad);
    }
  });

  it("is checked against the configured sink type's rules", () => {
    const logger = recordingLogger();
    const env = { OTEL_KAFKA_FORWARDER_SINK_URL: 'http://jaeger:4318/v1/traces' };
    const r = resolveConfig({ kafka: { brokers }, logger, forwarder: { sink: { type: 'otlp-grpc' } } }, env);
    expect(r.forwarder.sink).toMatchObject({ type: 'otlp-grpc', url: 'http://localhost:4317' });
    expect(logger.warnings.join('\n')).toMatch(/otlp-grpc/);
    const ok = resolveConfig(
      { kafka: { brokers }, forwarder: { sink: { type: 'otlp-grpc' } } },
      {
        OTEL_KAFKA_FORWARDER_SINK_URL: 'jaeger:4317',
      },
    );
    expect(ok.forwarder.sink).toMatchObject({ url: 'jaeger:4317' });
  });

  it('loses to a URL set in code, and a bad one in code still throws', () => {
    const env = { OTEL_KAFKA_FORWARDER_SINK_URL: 'http://env:4318/v1/traces' };
    const r = resolveConfig(
      { kafka: { brokers }, forwarder: { sink: { type: 'otlp-http', url: 'http://code:1/x' } } },
      env,
    );
    expect(r.forwarder.sink).toMatchObject({ url: 'http://code:1/x' });
    const err = (() => {
      try {
        resolveConfig({ kafka: { brokers }, forwarder: { sink: { type: 'otlp-http', url: withCredentials } } }, env);
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.field).toBe('forwarder.sink.url');
    expect(err.message).not.toContain('s3cr3t');
  });
});
