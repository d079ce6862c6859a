// The environment variables: the forwarder's sink type, headers, timeout and compression, the serializer, the
// Kafka connection's `OTEL_KAFKA_*` names and their earlier `OTEL_EXPORTER_KAFKA_*` names, and precedence.
import { ENV, ENV_OLD_NAMES, EnvReader, headerList } from '../../../src/config/env';
import { resolveCommon } from '../../../src/config/common';
import { resolveForwarderSettings } from '../../../src/config/forwarder';
import { resolveConfig } from '../../../src/config/resolve-config';
import type { OtelKafkaJaegerConfig } from '../../../src/config/types';
import { recordingLogger } from '../helpers/config';

const brokers = ['127.0.0.1:9092'];
const secret = 's3cr3t-t0ken';

/** resolveConfig with a recording logger; the config has brokers unless it says otherwise. */
function resolve(env: NodeJS.ProcessEnv, config: OtelKafkaJaegerConfig = {}) {
  const logger = recordingLogger();
  const resolved = resolveConfig({ kafka: { brokers }, ...config, logger }, env);
  return { resolved, warnings: logger.warnings.join('\n'), logger };
}

function sinkOf(env: NodeJS.ProcessEnv, config: OtelKafkaJaegerConfig = {}) {
  const { resolved, warnings } = resolve(env, config);
  return { sink: resolved.forwarder.sink as unknown as Record<string, unknown>, warnings };
}

describe('OTEL_KAFKA_FORWARDER_SINK_TYPE', () => {
  it.each([
    ['otlp-http', 'http://localhost:4318/v1/traces'],
    ['otlp-grpc', 'http://localhost:4317'],
    ['jaeger-thrift-http', 'http://localhost:14268/api/traces'],
  ])('%s selects that built-in sink with its default URL', (type, url) => {
    expect(sinkOf({ OTEL_KAFKA_FORWARDER_SINK_TYPE: type }).sink).toMatchObject({ type, url });
  });

  it('is read in any case and combines with OTEL_KAFKA_FORWARDER_SINK_URL', () => {
    const env = { OTEL_KAFKA_FORWARDER_SINK_TYPE: 'OTLP-GRPC', OTEL_KAFKA_FORWARDER_SINK_URL: 'http://jaeger:4317' };
    expect(sinkOf(env).sink).toMatchObject({ type: 'otlp-grpc', url: 'http://jaeger:4317' });
  });

  it('loses to forwarder.sink set in code', () => {
    const env = { OTEL_KAFKA_FORWARDER_SINK_TYPE: 'otlp-grpc' };
    const config = { forwarder: { sink: { type: 'jaeger-thrift-http' as const } } };
    expect(sinkOf(env, config).sink.type).toBe('jaeger-thrift-http');
  });

  it('warns naming the variable and keeps the default when the value is not a sink type', () => {
    const { sink, warnings } = sinkOf({ OTEL_KAFKA_FORWARDER_SINK_TYPE: 'zipkin' });
    expect(sink.type).toBe('otlp-http');
    expect(warnings).toMatch(/ignoring OTEL_KAFKA_FORWARDER_SINK_TYPE="zipkin": expected one of otlp-http, otlp-grpc/);
  });
});

describe('OTEL_KAFKA_FORWARDER_SINK_HEADERS', () => {
  it('reads name=value pairs, trimmed, with URL-decoded values', () => {
    const env = { OTEL_KAFKA_FORWARDER_SINK_HEADERS: ' authorization = Bearer%20abc%3D%3D , x-tenant=a%2Cb,' };
    expect(sinkOf(env).sink.headers).toEqual({ authorization: 'Bearer abc==', 'x-tenant': 'a,b' });
  });

  it('keeps everything after the first = in the value', () => {
    expect(sinkOf({ OTEL_KAFKA_FORWARDER_SINK_HEADERS: 'api-key=a=b=' }).sink.headers).toEqual({ 'api-key': 'a=b=' });
  });

  it('feeds the gRPC sink its metadata, and the Thrift sink its headers', () => {
    const headers = { OTEL_KAFKA_FORWARDER_SINK_HEADERS: 'authorization=Bearer x' };
    for (const type of ['otlp-grpc', 'jaeger-thrift-http'] as const) {
      expect(sinkOf(headers, { forwarder: { sink: { type } } }).sink.headers).toEqual({ authorization: 'Bearer x' });
    }
  });

  it('loses as a whole to headers set in code (no merge), and applies when code sets a sink without headers', () => {
    const env = { OTEL_KAFKA_FORWARDER_SINK_HEADERS: 'authorization=env' };
    const inCode = { forwarder: { sink: { type: 'otlp-http' as const, headers: { 'x-code': '1' } } } };
    expect(sinkOf(env, inCode).sink.headers).toEqual({ 'x-code': '1' });
    const noHeaders = { forwarder: { sink: { type: 'otlp-http' as const } } };
    expect(sinkOf(env, noHeaders).sink.headers).toEqual({ authorization: 'env' });
  });

  it.each([
    [`Bearer ${secret}`, /entry 1 is not name=value/],
    [`authorization=${secret},=${secret}`, /entry 2 is not name=value/],
    [`authorization=${secret}%E0%A4%A`, /entry 1: the value is not valid URL encoding/],
    [`authorization=${secret},Authorization=${secret}`, /entry 2: the name is given twice/],
    [`bad name=${secret}`, /entry 1: not a valid HTTP header name/],
    [`x-token=${secret}%0A`, /entry 1: the value has characters not allowed in an HTTP header/],
    [`content-type=${secret}`, /entry 1: this header is set by the sink/],
    [',,', /expected name=value,name2=value2/],
  ])('%j is ignored as a whole, with a warning that never shows a value', (value, reason) => {
    const { sink, warnings } = sinkOf({ OTEL_KAFKA_FORWARDER_SINK_HEADERS: value });
    expect(sink.headers).toEqual({});
    expect(warnings).toMatch(/ignoring OTEL_KAFKA_FORWARDER_SINK_HEADERS=\(redacted\)/);
    expect(warnings).toMatch(reason);
    expect(warnings).not.toContain(secret);
  });

  it("is checked against the gRPC sink's metadata rules for otlp-grpc", () => {
    const env = { OTEL_KAFKA_FORWARDER_SINK_HEADERS: `grpc-timeout=${secret}` };
    const { sink, warnings } = sinkOf(env, { forwarder: { sink: { type: 'otlp-grpc' } } });
    expect(sink.headers).toEqual({});
    expect(warnings).toMatch(/OTEL_KAFKA_FORWARDER_SINK_HEADERS.*entry 1: this header is set by the transport/);
    expect(warnings).not.toContain(secret);
  });

  it('parses through headerList, which takes a per-header check', () => {
    const parse = headerList((name) => (name === 'no' ? 'refused' : undefined));
    expect(parse('a=1,b=2')).toEqual({ value: { a: '1', b: '2' } });
    expect(parse('a=1,no=2')).toEqual({ error: 'entry 2: refused' });
  });
});

describe('OTEL_KAFKA_FORWARDER_SINK_TIMEOUT and OTEL_KAFKA_FORWARDER_SINK_COMPRESSION', () => {
  it('set the sink timeout (ms) and compression, for the default sink and a sink set in code', () => {
    const env = { OTEL_KAFKA_FORWARDER_SINK_TIMEOUT: '2500', OTEL_KAFKA_FORWARDER_SINK_COMPRESSION: 'GZIP' };
    expect(sinkOf(env).sink).toMatchObject({ type: 'otlp-http', timeoutMillis: 2500, compression: 'gzip' });
    const grpc = { forwarder: { sink: { type: 'otlp-grpc' as const } } };
    expect(sinkOf(env, grpc).sink).toMatchObject({ type: 'otlp-grpc', timeoutMillis: 2500, compression: 'gzip' });
  });

  it('lose to the sink options set in code', () => {
    const env = { OTEL_KAFKA_FORWARDER_SINK_TIMEOUT: '2500', OTEL_KAFKA_FORWARDER_SINK_COMPRESSION: 'gzip' };
    const config = {
      forwarder: { sink: { type: 'otlp-http' as const, timeoutMillis: 700, compression: 'none' as const } },
    };
    expect(sinkOf(env, config).sink).toMatchObject({ timeoutMillis: 700, compression: 'none' });
  });

  it.each([
    ['OTEL_KAFKA_FORWARDER_SINK_TIMEOUT', '10s', /expected a positive number of milliseconds/],
    ['OTEL_KAFKA_FORWARDER_SINK_TIMEOUT', '0', /expected a positive number of milliseconds/],
    ['OTEL_KAFKA_FORWARDER_SINK_COMPRESSION', 'zstd', /expected one of none, gzip/],
  ])('%s=%s warns naming the variable and keeps the default', (name, value, reason) => {
    const { sink, warnings } = sinkOf({ [name]: value });
    expect(sink).toMatchObject({ timeoutMillis: 10_000, compression: 'none' });
    expect(warnings).toContain(`ignoring ${name}=${JSON.stringify(value)}`);
    expect(warnings).toMatch(reason);
  });

  it('compression is not read by the Thrift sink, which says so', () => {
    const env = { OTEL_KAFKA_FORWARDER_SINK_COMPRESSION: 'gzip' };
    const { sink, warnings } = sinkOf(env, { forwarder: { sink: { type: 'jaeger-thrift-http' } } });
    expect(sink).not.toHaveProperty('compression');
    expect(warnings).toMatch(/ignoring OTEL_KAFKA_FORWARDER_SINK_COMPRESSION: the jaeger-thrift-http sink does not/);
  });
});

describe('OTEL_EXPORTER_KAFKA_SERIALIZER', () => {
  it('selects the built-in serializer when code sets none', () => {
    expect(resolve({ OTEL_EXPORTER_KAFKA_SERIALIZER: 'otlp_json' }).resolved.serializer).toBe('otlp_json');
    expect(resolve({ OTEL_EXPORTER_KAFKA_SERIALIZER: 'OTLP_PROTO' }).resolved.serializer).toBe('otlp_proto');
    const common = resolveCommon({ logger: recordingLogger() }, { OTEL_EXPORTER_KAFKA_SERIALIZER: 'otlp_json' });
    expect(common.serializerName).toBe('otlp_json');
    expect(common.serializer.contentType).toBe('application/json');
  });

  it('loses to serializer set in code', () => {
    const env = { OTEL_EXPORTER_KAFKA_SERIALIZER: 'otlp_json' };
    expect(resolve(env, { serializer: 'otlp_proto' }).resolved.serializer).toBe('otlp_proto');
  });

  it('warns naming the variable and keeps otlp_proto when the value is unknown', () => {
    const { resolved, warnings } = resolve({ OTEL_EXPORTER_KAFKA_SERIALIZER: 'avro' });
    expect(resolved.serializer).toBe('otlp_proto');
    expect(warnings).toMatch(/ignoring OTEL_EXPORTER_KAFKA_SERIALIZER="avro": expected one of otlp_proto, otlp_json/);
  });
});

describe('the Kafka connection: OTEL_KAFKA_* and the earlier OTEL_EXPORTER_KAFKA_* names', () => {
  const connection = {
    BROKERS: 'kafka-1:9094,kafka-2:9094',
    TOPIC: 'env_spans',
    CLIENT_ID: 'env-client',
    SECURITY_PROTOCOL: 'sasl_ssl',
    SASL_MECHANISM: 'scram-sha-512',
    SASL_USERNAME: 'svc',
    SASL_PASSWORD: secret,
    CERTIFICATE: '/etc/kafka/ca.pem',
    CLIENT_CERTIFICATE: '/etc/kafka/client.pem',
    CLIENT_KEY: '/etc/kafka/client.key',
  };
  const expected = {
    brokers: ['kafka-1:9094', 'kafka-2:9094'],
    topic: 'env_spans',
    clientId: 'env-client',
    securityProtocol: 'sasl_ssl',
    sasl: { mechanism: 'scram-sha-512', username: 'svc', password: secret },
    tls: { caFile: '/etc/kafka/ca.pem', certFile: '/etc/kafka/client.pem', keyFile: '/etc/kafka/client.key' },
  };
  const withPrefix = (prefix: string): NodeJS.ProcessEnv =>
    Object.fromEntries(Object.entries(connection).map(([k, v]) => [`${prefix}${k}`, v]));

  it.each(['OTEL_KAFKA_', 'OTEL_EXPORTER_KAFKA_'])('every connection setting is read from %s*', (prefix) => {
    const logger = recordingLogger();
    expect(resolveConfig({ logger }, withPrefix(prefix)).kafka).toMatchObject(expected);
    expect(logger.warnings).toEqual([]);
  });

  it('maps each current name to its earlier one', () => {
    expect(ENV_OLD_NAMES).toEqual(
      Object.fromEntries(Object.keys(connection).map((k) => [`OTEL_KAFKA_${k}`, `OTEL_EXPORTER_KAFKA_${k}`])),
    );
    expect(ENV.brokers).toBe('OTEL_KAFKA_BROKERS');
  });

  it('the current name wins when both are set, with one warning naming the ignored one and no value', () => {
    const logger = recordingLogger();
    const env = {
      ...withPrefix('OTEL_EXPORTER_KAFKA_'),
      OTEL_KAFKA_TOPIC: 'new_spans',
      OTEL_KAFKA_SASL_PASSWORD: 'pw2',
    };
    const k = resolveConfig({ logger }, env).kafka;
    expect(k.topic).toBe('new_spans');
    expect(k.sasl?.password).toBe('pw2');
    expect(k.brokers).toEqual(expected.brokers);
    const warnings = logger.warnings.join('\n');
    expect(warnings).toMatch(/ignoring OTEL_EXPORTER_KAFKA_TOPIC: OTEL_KAFKA_TOPIC is set too/);
    expect(warnings).toMatch(/ignoring OTEL_EXPORTER_KAFKA_SASL_PASSWORD: OTEL_KAFKA_SASL_PASSWORD is set too/);
    expect(logger.warnings.filter((w) => w.includes('OTEL_EXPORTER_KAFKA_TOPIC'))).toHaveLength(1);
    expect(warnings).not.toContain(secret);
    expect(warnings).not.toContain('pw2');
  });

  it('a bad value is warned about under the name that was set', () => {
    for (const name of ['OTEL_KAFKA_TOPIC', 'OTEL_EXPORTER_KAFKA_TOPIC']) {
      const { resolved, warnings } = resolve({ [name]: 'bad topic' });
      expect(resolved.kafka.topic).toBe('otlp_spans');
      expect(warnings).toContain(`ignoring ${name}="bad topic"`);
    }
  });

  it('names the variable that was set when the brokers in it are refused', () => {
    expect(() => resolveConfig({ logger: recordingLogger() }, { OTEL_EXPORTER_KAFKA_BROKERS: 'kafka-1' })).toThrow(
      /OTEL_EXPORTER_KAFKA_BROKERS is invalid/,
    );
    expect(() => resolveConfig({ logger: recordingLogger() }, { OTEL_KAFKA_BROKERS: 'kafka-1' })).toThrow(
      /OTEL_KAFKA_BROKERS is invalid/,
    );
  });

  it('names what an incomplete SASL set lacks in the family of what was set', () => {
    for (const prefix of ['OTEL_KAFKA_', 'OTEL_EXPORTER_KAFKA_']) {
      const { resolved, warnings } = resolve({ [`${prefix}SASL_USERNAME`]: 'svc' });
      expect(resolved.kafka.sasl).toBeUndefined();
      expect(warnings).toContain(`${prefix}SASL_PASSWORD not set`);
    }
    const { warnings } = resolve({ OTEL_KAFKA_SASL_USERNAME: 'svc', OTEL_EXPORTER_KAFKA_SASL_MECHANISM: 'plain' });
    expect(warnings).toContain('OTEL_KAFKA_SASL_PASSWORD not set');
  });

  it('code still wins over both names', () => {
    const env = { ...withPrefix('OTEL_KAFKA_'), ...withPrefix('OTEL_EXPORTER_KAFKA_') };
    const k = resolveConfig({ logger: recordingLogger(), kafka: { brokers, topic: 'code_topic' } }, env).kafka;
    expect(k).toMatchObject({ brokers, topic: 'code_topic', clientId: 'env-client' });
  });
});

describe('the forwarder variables that were already there', () => {
  it('OTEL_KAFKA_FORWARDER_GROUP_ID, _SINK_URL and _DEAD_LETTER_TOPIC keep working next to the new ones', () => {
    const env = {
      OTEL_KAFKA_FORWARDER_GROUP_ID: 'env-group',
      OTEL_KAFKA_FORWARDER_SINK_TYPE: 'jaeger-thrift-http',
      OTEL_KAFKA_FORWARDER_SINK_URL: 'http://collector:14268/api/traces',
      OTEL_KAFKA_FORWARDER_DEAD_LETTER_TOPIC: 'env.dlq',
    };
    const f = resolveForwarderSettings({}, 'otlp_spans', env, recordingLogger());
    expect(f).toMatchObject({ groupId: 'env-group', deadLetterTopic: 'env.dlq' });
    expect(f.sink).toMatchObject({ type: 'jaeger-thrift-http', url: 'http://collector:14268/api/traces' });
  });
});

describe('EnvReader', () => {
  it('treats a blank current name as unset, so the earlier name is read', () => {
    const e = new EnvReader({ OTEL_KAFKA_TOPIC: '  ', OTEL_EXPORTER_KAFKA_TOPIC: 'old' }, recordingLogger());
    expect(e.nameOf(ENV.topic)).toBe('OTEL_EXPORTER_KAFKA_TOPIC');
    expect(e.string(ENV.topic)).toBe('old');
  });
});
