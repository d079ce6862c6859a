import { ConfigError } from '../../../src/errors/errors';
import { resolveCommon } from '../../../src/config/common';
import { DEFAULTS } from '../../../src/config/defaults';
import { resolveExporterConfig } from '../../../src/config/exporter';
import { resolveKafkaConfig } from '../../../src/config/kafka';
import { resolveRetryPolicy } from '../../../src/config/retry';
import { configError, recordingLogger } from '../helpers/config';

const brokers = ['127.0.0.1:9092'];

describe('resolveKafkaConfig', () => {
  it('applies defaults', () => {
    const k = resolveKafkaConfig({ kafka: { brokers } }, {});
    expect(k).toMatchObject({
      brokers,
      topic: 'otlp_spans',
      clientId: 'otel-kafka-jaeger',
      securityProtocol: 'plaintext',
    });
    expect(k.tls).toBeUndefined();
    expect(k.sasl).toBeUndefined();
  });

  it('resolves code ?? environment ?? default', () => {
    const env = {
      OTEL_EXPORTER_KAFKA_BROKERS: 'k1:9092, k2:9092',
      OTEL_EXPORTER_KAFKA_TOPIC: 'env_topic',
      OTEL_EXPORTER_KAFKA_CLIENT_ID: 'env-client',
    };
    expect(resolveKafkaConfig({}, env)).toMatchObject({
      brokers: ['k1:9092', 'k2:9092'],
      topic: 'env_topic',
      clientId: 'env-client',
    });
    expect(resolveKafkaConfig({ kafka: { brokers, topic: 'code_topic' } }, env)).toMatchObject({
      brokers,
      topic: 'code_topic',
      clientId: 'env-client',
    });
  });

  it.each([
    [{}, 'kafka.brokers'],
    [{ kafka: { brokers: [] } }, 'kafka.brokers'],
    [{ kafka: { brokers: 'a:1' } }, 'kafka.brokers'],
    [{ kafka: { brokers: ['ok:1', 'bad host:1'] } }, 'kafka.brokers[1]'],
    [{ kafka: { brokers: ['a:99999'] } }, 'kafka.brokers[0]'],
    [{ kafka: { brokers, topic: 'no spaces' } }, 'kafka.topic'],
    [{ kafka: { brokers, topic: '' } }, 'kafka.topic'],
    [{ kafka: { brokers, clientId: 42 } }, 'kafka.clientId'],
    [{ kafka: { brokers, securityProtocol: 'tls' } }, 'kafka.securityProtocol'],
    [{ kafka: { brokers, sasl: { mechanism: 'gssapi', username: 'u', password: 'p' } } }, 'kafka.sasl.mechanism'],
    [{ kafka: { brokers, sasl: { username: 'u' } } }, 'kafka.sasl.password'],
    [{ kafka: { brokers, rdkafka: { 'linger.ms': { nested: 1 } } } }, "kafka.rdkafka['linger.ms']"],
    [{ kafka: 'x' }, 'kafka'],
    ['not an object', 'config'],
  ])('%j → ConfigError naming %s', (config, field) => {
    const err = configError(() => resolveKafkaConfig(config, {}));
    expect(err.field).toBe(field);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(field);
  });

  it('never puts a password into an error message', () => {
    const err = configError(() =>
      resolveKafkaConfig({ kafka: { brokers, sasl: { username: 'u', password: 'hunter2', mechanism: 'nope' } } }, {}),
    );
    expect(err.message).not.toContain('hunter2');
    const err2 = configError(() =>
      resolveKafkaConfig({ kafka: { brokers, sasl: { username: 'u', password: 123 } } }, {}),
    );
    expect(err2.message).not.toContain('123');
  });

  it('warns about and ignores bad environment values, without echoing secrets', () => {
    const logger = recordingLogger();
    const env = {
      OTEL_EXPORTER_KAFKA_BROKERS: 'has space:1',
      OTEL_EXPORTER_KAFKA_TOPIC: 'bad topic',
      OTEL_EXPORTER_KAFKA_SECURITY_PROTOCOL: 'carrier-pigeon',
    };
    const k = resolveKafkaConfig({ kafka: { brokers } }, env, logger);
    expect(k.topic).toBe(DEFAULTS.topic);
    expect(k.securityProtocol).toBe('plaintext');
    expect(logger.warnings.join('\n')).toMatch(/OTEL_EXPORTER_KAFKA_TOPIC/);
    expect(logger.warnings.join('\n')).toMatch(/OTEL_EXPORTER_KAFKA_SECURITY_PROTOCOL/);

    const l2 = recordingLogger();
    expect(() => resolveKafkaConfig({}, { OTEL_EXPORTER_KAFKA_BROKERS: ' , ' }, l2)).toThrow(ConfigError);
  });

  it('reads SASL and TLS from the environment and derives the security protocol', () => {
    const env = {
      OTEL_EXPORTER_KAFKA_SASL_MECHANISM: 'scram-sha-256',
      OTEL_EXPORTER_KAFKA_SASL_USERNAME: 'svc',
      OTEL_EXPORTER_KAFKA_SASL_PASSWORD: 'secret',
      OTEL_EXPORTER_KAFKA_CERTIFICATE: '/etc/ca.pem',
    };
    const k = resolveKafkaConfig({ kafka: { brokers } }, env);
    expect(k.sasl).toEqual({ mechanism: 'scram-sha-256', username: 'svc', password: 'secret' });
    expect(k.tls?.caFile).toBe('/etc/ca.pem');
    expect(k.securityProtocol).toBe('sasl_ssl');
  });

  it('takes kafka.tls as another name for kafka.ssl, naming the field it was given as', () => {
    const k = resolveKafkaConfig({ kafka: { brokers, tls: { caFile: '/etc/ca.pem', rejectUnauthorized: false } } }, {});
    expect(k.tls).toMatchObject({ caFile: '/etc/ca.pem', rejectUnauthorized: false });
    expect(k.securityProtocol).toBe('ssl');
    const fieldOf = (kafka: object): string | undefined => {
      try {
        resolveKafkaConfig({ kafka: { brokers, ...kafka } }, {});
      } catch (err) {
        return (err as ConfigError).field;
      }
      return undefined;
    };
    expect(fieldOf({ tls: { caFile: 7 } })).toBe('kafka.tls.caFile');
    expect(fieldOf({ ssl: true, tls: true })).toBe('kafka.tls');
    expect(fieldOf({ ssl: { caFile: 7 } })).toBe('kafka.ssl.caFile');
  });

  it('requires a port on every broker, in code and in the environment; says so when the list is empty', () => {
    const err = configError(() => resolveKafkaConfig({ kafka: { brokers: ['127.0.0.1:9092', 'kafka-1'] } }, {}));
    expect(err.field).toBe('kafka.brokers[1]');
    expect(err.message).toMatch(/no port: expected host:port \(e\.g\. kafka-1:9092\)/);
    // From the environment the same broker is a bad value (warned about), so the brokers are missing.
    const logger = recordingLogger();
    expect(() => resolveKafkaConfig({}, { OTEL_EXPORTER_KAFKA_BROKERS: 'kafka-1' }, logger)).toThrow(
      /OTEL_EXPORTER_KAFKA_BROKERS is invalid \("kafka-1": no port: expected host:port \(e\.g\. kafka-1:9092\)\)/,
    );
    expect(() => resolveKafkaConfig({}, {}, logger)).toThrow(/required: set kafka.brokers or OTEL_KAFKA_BROKERS/);
    expect(logger.warnings.join('\n')).toMatch(/OTEL_EXPORTER_KAFKA_BROKERS.*no port/);
    expect(configError(() => resolveKafkaConfig({ kafka: { brokers: [] } }, {})).message).toMatch(/is empty/);
    expect(resolveKafkaConfig({ kafka: { brokers: ['[::1]:9093'] } }, {}).brokers).toEqual(['[::1]:9093']);
  });

  it('accepts the SASL mechanism in any case, as its environment variable does', () => {
    const sasl = { mechanism: 'SCRAM-SHA-512' as const, username: 'u', password: 'p' };
    expect(resolveKafkaConfig({ kafka: { brokers, sasl } }, {}).sasl?.mechanism).toBe('scram-sha-512');
  });

  it("refuses KafkaJS-style PEM contents in kafka.ssl instead of silently using the system's trust store", () => {
    for (const [pem, file] of [
      ['ca', 'caFile'],
      ['cert', 'certFile'],
      ['key', 'keyFile'],
    ] as const) {
      for (const field of ['ssl', 'tls'] as const) {
        const err = configError(() =>
          resolveKafkaConfig({ kafka: { brokers, [field]: { [pem]: ['-----BEGIN CERTIFICATE-----'] } } }, {}),
        );
        expect(err.field).toBe(`kafka.${field}.${pem}`);
        expect(err.message).toContain(`kafka.${field}.${file}`);
        expect(err.message).not.toContain('BEGIN');
      }
    }
    const err = configError(() => resolveKafkaConfig({ kafka: { brokers, ssl: { passphrase: 'hunter2' } } }, {}));
    expect(err.message).toContain('kafka.ssl.keyPassword');
    expect(err.message).not.toContain('hunter2');
  });

  it('lets code set the security protocol explicitly', () => {
    expect(resolveKafkaConfig({ kafka: { brokers, ssl: true } }, {}).securityProtocol).toBe('ssl');
    expect(
      resolveKafkaConfig({ kafka: { brokers, ssl: true, securityProtocol: 'plaintext' } }, {}).securityProtocol,
    ).toBe('plaintext');
  });
});

describe('resolveExporterConfig', () => {
  it('applies defaults', () => {
    expect(resolveExporterConfig({}, {})).toEqual(DEFAULTS.exporter);
  });

  it('reads timeout, compression and partitioning from the environment', () => {
    const env = {
      OTEL_EXPORTER_KAFKA_TIMEOUT: '2500',
      OTEL_EXPORTER_KAFKA_COMPRESSION: 'LZ4',
      OTEL_EXPORTER_KAFKA_PARTITION_BY_TRACE_ID: 'false',
    };
    expect(resolveExporterConfig({}, env)).toMatchObject({
      timeoutMillis: 2500,
      compression: 'lz4',
      messagePer: 'batch',
    });
    expect(resolveExporterConfig({ exporter: { timeoutMillis: 100 } }, env).timeoutMillis).toBe(100);
  });

  it('resolves messagePer: code, then its variable, then the deprecated partitionByTraceId, then partition', () => {
    expect(resolveExporterConfig({}, {}).messagePer).toBe('partition');
    expect(resolveExporterConfig({}, { OTEL_EXPORTER_KAFKA_MESSAGE_PER: 'trace' }).messagePer).toBe('trace');
    expect(resolveExporterConfig({ exporter: { partitionByTraceId: true } }, {}).messagePer).toBe('trace');
    expect(resolveExporterConfig({ exporter: { partitionByTraceId: false } }, {}).messagePer).toBe('batch');
    const both = { exporter: { messagePer: 'partition' as const, partitionByTraceId: false } };
    expect(resolveExporterConfig(both, { OTEL_EXPORTER_KAFKA_MESSAGE_PER: 'trace' }).messagePer).toBe('partition');
    expect(
      resolveExporterConfig(
        {},
        { OTEL_EXPORTER_KAFKA_MESSAGE_PER: 'batch', OTEL_EXPORTER_KAFKA_PARTITION_BY_TRACE_ID: 'true' },
      ).messagePer,
    ).toBe('batch');
    const logger = recordingLogger();
    expect(resolveExporterConfig({}, { OTEL_EXPORTER_KAFKA_MESSAGE_PER: 'span' }, logger).messagePer).toBe('partition');
    expect(logger.warnings.join('\n')).toContain('OTEL_EXPORTER_KAFKA_MESSAGE_PER');
  });

  it('warns about and ignores bad environment values', () => {
    const logger = recordingLogger();
    const x = resolveExporterConfig(
      {},
      { OTEL_EXPORTER_KAFKA_TIMEOUT: '-5', OTEL_EXPORTER_KAFKA_COMPRESSION: 'brotli' },
      logger,
    );
    expect(x.timeoutMillis).toBe(10_000);
    expect(x.compression).toBe('none');
    expect(logger.warnings).toHaveLength(2);
  });

  it('ignores (with a warning) an environment timeout beyond what timers and librdkafka accept', () => {
    const logger = recordingLogger();
    const x = resolveExporterConfig({}, { OTEL_EXPORTER_KAFKA_TIMEOUT: '3000000000' }, logger);
    expect(x.timeoutMillis).toBe(10_000);
    expect(logger.warnings).toHaveLength(1);
  });

  it.each([
    [{ timeoutMillis: -1 }, 'exporter.timeoutMillis'],
    [{ timeoutMillis: 0 }, 'exporter.timeoutMillis'],
    [{ timeoutMillis: Number.NaN }, 'exporter.timeoutMillis'],
    [{ timeoutMillis: '100' }, 'exporter.timeoutMillis'],
    [{ compression: 'brotli' }, 'exporter.compression'],
    [{ partitionByTraceId: 'yes' }, 'exporter.partitionByTraceId'],
    [{ messagePer: 'span' }, 'exporter.messagePer'],
    [{ maxMessageBytes: 10 }, 'exporter.maxMessageBytes'],
    [{ maxMessageBytes: 4095 }, 'exporter.maxMessageBytes'],
    [{ maxMessageBytes: 1.5e6 + 0.5 }, 'exporter.maxMessageBytes'],
    [{ lingerMillis: -3 }, 'exporter.lingerMillis'],
    [{ maxQueueBytes: 2_000_000, maxMessageBytes: 3_000_000 }, 'exporter.maxQueueBytes'],
  ])('%j → ConfigError naming %s', (exporter, field) => {
    const err = configError(() => resolveExporterConfig({ exporter }, {}));
    expect(err.field).toBe(field);
  });

  it('names the allowed values', () => {
    expect(configError(() => resolveExporterConfig({ exporter: { compression: 'brotli' } }, {})).message).toMatch(
      /'none', 'gzip', 'snappy', 'lz4', 'zstd'/,
    );
  });
});

describe('resolveCommon', () => {
  it('prints each configuration warning to stderr once when no logger is configured, else tells the logger', () => {
    const emit = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const printed = (): string[] => emit.mock.calls.map((c) => String(c[0]));
      // Unique names: each distinct warning prints once per process.
      const typo = `timeout${process.hrtime.bigint()}`;
      resolveCommon({ exporter: { [typo]: 1 } });
      resolveCommon({ exporter: { [typo]: 1 } });
      expect(printed()).toEqual([
        `configuration fields not known to otel-kafka-jaeger are ignored; check their spelling {"fields":"exporter.${typo}"}`,
      ]);
      expect(emit.mock.calls[0]![1]).toEqual({
        type: 'OtelKafkaJaegerConfigWarning',
        code: 'OTEL_KAFKA_JAEGER_CONFIG',
      });
      // A bad environment value too.
      resolveKafkaConfig({ kafka: { brokers } }, { OTEL_EXPORTER_KAFKA_TOPIC: `bad topic ${typo}` });
      expect(printed()).toHaveLength(2);
      expect(printed()[1]).toContain('OTEL_EXPORTER_KAFKA_TOPIC');

      const logger = recordingLogger();
      resolveCommon({ logger, exporter: { [`${typo}x`]: 1 } });
      expect(printed()).toHaveLength(2);
      expect(logger.warnings).toHaveLength(1);
    } finally {
      emit.mockRestore();
    }
  });

  it('picks the built-in serializers by name, otlp_proto by default', () => {
    expect(resolveCommon({}).serializer.contentType).toBe('application/x-protobuf');
    expect(resolveCommon({ serializer: 'otlp_json' }).serializer.contentType).toBe('application/json');
  });

  it('accepts a custom serializer object', () => {
    const custom = { contentType: 'text/plain', serialize: () => new Uint8Array([1]) };
    expect(resolveCommon({ serializer: custom }).serializer).toBe(custom);
  });

  it.each([
    [{ serializer: 'avro' }, 'serializer'],
    [{ serializer: { contentType: 'x' } }, 'serializer'],
    [{ logger: { info: () => undefined } }, 'logger'],
    [{ meterProvider: {} }, 'meterProvider'],
  ])('%j → ConfigError naming %s', (config, field) => {
    expect(configError(() => resolveCommon(config)).field).toBe(field);
  });
});

describe('resolveRetryPolicy', () => {
  it('builds exponential backoff from options and accepts a policy object', () => {
    const policy = resolveRetryPolicy({ retry: { initialDelayMillis: 10, jitter: 0, maxDelayMillis: 40 } });
    expect(policy.nextDelay(1, new Error('x'))).toEqual({ retry: true, delayMillis: 10 });
    expect(policy.nextDelay(5, new Error('x'))).toEqual({ retry: true, delayMillis: 40 });
    const custom = { nextDelay: () => ({ retry: false as const }) };
    expect(resolveRetryPolicy({ retry: custom })).toBe(custom);
  });

  it('names the bad retry field', () => {
    expect(configError(() => resolveRetryPolicy({ retry: { multiplier: 0.5 } })).field).toBe('retry.multiplier');
    expect(configError(() => resolveRetryPolicy({ retry: 5 })).field).toBe('retry');
  });
});

describe('SASL from the environment', () => {
  const secret = 'hunter2-env';

  it.each([
    [{ OTEL_EXPORTER_KAFKA_SASL_USERNAME: 'svc' }, /OTEL_EXPORTER_KAFKA_SASL_PASSWORD not set/],
    [{ OTEL_EXPORTER_KAFKA_SASL_PASSWORD: secret }, /OTEL_EXPORTER_KAFKA_SASL_USERNAME not set/],
    [{ OTEL_EXPORTER_KAFKA_SASL_MECHANISM: 'scram-sha-256' }, /USERNAME and OTEL_EXPORTER_KAFKA_SASL_PASSWORD not set/],
    [
      {
        OTEL_EXPORTER_KAFKA_SASL_MECHANISM: 'scram-sha-1024',
        OTEL_EXPORTER_KAFKA_SASL_USERNAME: 'svc',
        OTEL_EXPORTER_KAFKA_SASL_PASSWORD: secret,
      },
      /OTEL_EXPORTER_KAFKA_SASL_MECHANISM is invalid/,
    ],
  ])('an incomplete or invalid set %j is warned about and ignored', (env, reason) => {
    const logger = recordingLogger();
    const k = resolveKafkaConfig({ kafka: { brokers } }, env, logger);
    expect(k.sasl).toBeUndefined();
    expect(k.securityProtocol).toBe('plaintext');
    const warnings = logger.warnings.join('\n');
    expect(warnings).toMatch(/ignoring the SASL environment variables/);
    expect(warnings).toMatch(reason);
    expect(warnings).not.toContain(secret);
  });

  it('still throws when kafka.sasl is set in code and stays incomplete', () => {
    const err = configError(() =>
      resolveKafkaConfig(
        { kafka: { brokers, sasl: { mechanism: 'plain' } } },
        { OTEL_EXPORTER_KAFKA_SASL_USERNAME: 'u' },
      ),
    );
    expect(err.field).toBe('kafka.sasl.password');
  });

  it('completes code-set SASL from the environment', () => {
    const k = resolveKafkaConfig(
      { kafka: { brokers, sasl: { mechanism: 'scram-sha-512' } } },
      { OTEL_EXPORTER_KAFKA_SASL_USERNAME: 'u', OTEL_EXPORTER_KAFKA_SASL_PASSWORD: secret },
    );
    expect(k.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: secret });
  });
});

describe("kafka.rdkafka['message.max.bytes']", () => {
  it('lowers the exporter limit when it is below exporter.maxMessageBytes', () => {
    const config = { kafka: { brokers, rdkafka: { 'message.max.bytes': 200_000 } } };
    expect(resolveExporterConfig(config, {}).maxMessageBytes).toBe(200_000);
    const asString = { kafka: { brokers, rdkafka: { 'message.max.bytes': '300000' } } };
    expect(resolveExporterConfig(asString, {}).maxMessageBytes).toBe(300_000);
    const higher = {
      kafka: { brokers, rdkafka: { 'message.max.bytes': 5_000_000 } },
      exporter: { maxMessageBytes: 8192 },
    };
    expect(resolveExporterConfig(higher, {}).maxMessageBytes).toBe(8192);
  });

  it.each([1000, 4095, '12x', 2e9, 5000.5])('%j → ConfigError naming the property', (value) => {
    const config = { kafka: { brokers, rdkafka: { 'message.max.bytes': value } } };
    expect(configError(() => resolveKafkaConfig(config, {})).field).toBe("kafka.rdkafka['message.max.bytes']");
    expect(configError(() => resolveExporterConfig(config, {})).field).toBe("kafka.rdkafka['message.max.bytes']");
  });
});

describe('DEFAULTS.retry', () => {
  it("matches exponentialBackoff()'s own defaults", () => {
    const policy = resolveRetryPolicy({ retry: { jitter: 0 } });
    expect(policy.nextDelay(1, new Error('x'))).toEqual({
      retry: true,
      delayMillis: DEFAULTS.retry.initialDelayMillis,
    });
    expect(policy.nextDelay(2, new Error('x'))).toEqual({
      retry: true,
      delayMillis: DEFAULTS.retry.initialDelayMillis * DEFAULTS.retry.multiplier,
    });
    expect(policy.nextDelay(1_000, new Error('x'))).toEqual({
      retry: true,
      delayMillis: DEFAULTS.retry.maxDelayMillis,
    });
    const jittered = resolveRetryPolicy({ retry: { random: () => 0 } });
    expect(jittered.nextDelay(1, new Error('x'))).toEqual({
      retry: true,
      delayMillis: DEFAULTS.retry.initialDelayMillis * (1 - DEFAULTS.retry.jitter),
    });
  });
});
