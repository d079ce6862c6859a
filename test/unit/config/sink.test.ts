// forwarder.sink: resolveConfig checks a built-in sink's options by the sink's own rules, so a config and the
// sink's factory refuse the same options with the same error.
import { resolveConfig } from '../../../src/config/resolve-config';
import type { OtelKafkaJaegerConfig } from '../../../src/config/types';
import { createSink } from '../../../src/sinks/create-sink';
import { jaegerThriftHttpSink } from '../../../src/sinks/jaeger-thrift-http-sink';
import { otlpGrpcSink } from '../../../src/sinks/otlp-grpc-sink';
import { otlpHttpSink } from '../../../src/sinks/otlp-http-sink';
import type { Sink } from '../../../src/sinks/sink';
import { configError } from '../helpers/config';

const brokers = ['127.0.0.1:9092'];

const FACTORIES = {
  'otlp-http': otlpHttpSink,
  'otlp-grpc': otlpGrpcSink,
  'jaeger-thrift-http': jaegerThriftHttpSink,
} as const;

describe('forwarder.sink options', () => {
  it.each([
    ['otlp-http', { headers: { 'content-length': '1' } }],
    ['otlp-http', { headers: { 'bad name': 'x' } }],
    ['otlp-http', { timeoutMillis: 2 ** 31 }],
    ['otlp-http', { headers: 'Bearer x' }],
    ['otlp-grpc', { headers: { 'x-trace-bin': 'x' } }],
    ['otlp-grpc', { url: 'http://jaeger:4317/path' }],
    ['otlp-grpc', { compression: 'zstd' }],
    ['jaeger-thrift-http', { maxRequestBytes: -1 }],
    ['jaeger-thrift-http', { endpointErrors: 'never' }],
  ] as const)('%s %o: resolveConfig throws what the factory throws', (type, options) => {
    const config = { kafka: { brokers }, forwarder: { sink: { type, ...options } } } as OtelKafkaJaegerConfig;
    const fromConfig = configError(() => resolveConfig(config, {}));
    const fromFactory = configError(() => (FACTORIES[type] as (o: unknown) => Sink)(options));
    expect(fromConfig.field).toBe(fromFactory.field);
    expect(fromConfig.message).toBe(fromFactory.message);
    expect(fromConfig.field.startsWith('forwarder.sink')).toBe(true);
  });

  it('takes an option given as undefined from the environment (code ?? environment, key by key)', () => {
    const r = resolveConfig(
      {
        kafka: { brokers },
        forwarder: { sink: { type: 'otlp-http', url: undefined, headers: undefined, timeoutMillis: undefined } },
      },
      {
        OTEL_KAFKA_FORWARDER_SINK_URL: 'http://collector:4318/v1/traces',
        OTEL_KAFKA_FORWARDER_SINK_HEADERS: 'authorization=Bearer%20secret',
        OTEL_KAFKA_FORWARDER_SINK_TIMEOUT: '2500',
      },
    );
    expect(r.forwarder.sink).toMatchObject({
      url: 'http://collector:4318/v1/traces',
      headers: { authorization: 'Bearer secret' },
      timeoutMillis: 2500,
    });
  });

  it('leaves an environment value the sink would refuse out, with a warning', () => {
    const warnings: string[] = [];
    const logger = { debug: () => {}, info: () => {}, warn: (m: string) => warnings.push(m), error: () => {} };
    const r = resolveConfig(
      { kafka: { brokers }, logger, forwarder: { sink: { type: 'jaeger-thrift-http' } } },
      {
        OTEL_KAFKA_FORWARDER_SINK_URL: 'ftp://collector/api/traces',
      },
    );
    expect(r.forwarder.sink).toMatchObject({ url: 'http://localhost:14268/api/traces' });
    expect(warnings.join('\n')).toMatch(/OTEL_KAFKA_FORWARDER_SINK_URL.*not usable by the jaeger-thrift-http sink/);
  });
});

describe('createSink', () => {
  const sinks: Sink[] = [];
  afterAll(async () => {
    await Promise.all(sinks.map((s) => s.close()));
  });

  it('creates the built-in sink a resolved config describes, and returns a custom one as is', () => {
    const resolved = resolveConfig(
      { kafka: { brokers }, forwarder: { sink: { type: 'jaeger-thrift-http', maxRequestBytes: 4096 } } },
      {},
    );
    const thrift = createSink(resolved.forwarder.sink);
    sinks.push(thrift);
    expect(thrift.name).toBe('jaeger-thrift-http');
    const custom: Sink = { name: 'mine', send: () => Promise.resolve({}), close: () => Promise.resolve() };
    expect(createSink({ type: 'custom', sink: custom })).toBe(custom);
  });
});
