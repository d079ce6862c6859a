// What the exporter does without a reachable broker: configuration errors at construction, FAILED after
// shutdown, FAILED with a clear error when the serializer throws, and exactly one callback each time.
// (Everything about delivery is in test/integration/exporter, against the real broker.)
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';

import { ConfigError } from '../../../src/errors/errors';
import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import { makeSpans } from '../helpers/spans';

const UNREACHABLE = ['127.0.0.1:1'];

function exportOnce(exporter: KafkaSpanExporter): Promise<ExportResult[]> {
  return new Promise((resolve) => {
    const results: ExportResult[] = [];
    exporter.export(makeSpans({ spansPerTrace: 2 }), (r) => {
      results.push(r);
      setImmediate(() => resolve(results));
    });
  });
}

describe('KafkaSpanExporter construction', () => {
  it.each([
    [{}, 'kafka.brokers'],
    [{ kafka: { brokers: [] } }, 'kafka.brokers'],
    [{ kafka: { brokers: UNREACHABLE }, exporter: { compression: 'brotli' } }, 'exporter.compression'],
    [{ kafka: { brokers: UNREACHABLE }, exporter: { timeoutMillis: -1 } }, 'exporter.timeoutMillis'],
    [{ kafka: { brokers: UNREACHABLE }, serializer: 'avro' }, 'serializer'],
  ])('%j throws a ConfigError naming %s', (config, field) => {
    let error: unknown;
    try {
      new KafkaSpanExporter(config as never, {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
  });

  it('takes brokers from the environment', () => {
    expect(() => new KafkaSpanExporter({}, { OTEL_EXPORTER_KAFKA_BROKERS: '127.0.0.1:1' })).not.toThrow();
  });
});

describe('KafkaSpanExporter without a broker', () => {
  it('reports FAILED with a SerializationError when the serializer throws, exactly once', async () => {
    const exporter = new KafkaSpanExporter(
      {
        kafka: { brokers: UNREACHABLE },
        serializer: {
          contentType: 'x',
          serialize: () => {
            throw new TypeError('boom');
          },
        },
      },
      {},
    );
    const results = await exportOnce(exporter);
    expect(results).toHaveLength(1);
    expect(results[0]?.code).toBe(ExportResultCode.FAILED);
    expect(results[0]?.error?.name).toBe('SerializationError');
    expect(results[0]?.error?.message).toContain('boom');
    await exporter.shutdown();
  });

  it('reports FAILED after shutdown, once per export', async () => {
    const exporter = new KafkaSpanExporter({ kafka: { brokers: UNREACHABLE } }, {});
    await exporter.shutdown();
    const results = await exportOnce(exporter);
    expect(results).toHaveLength(1);
    expect(results[0]?.code).toBe(ExportResultCode.FAILED);
    expect(results[0]?.error?.name).toBe('ShutdownError');
  });

  it('succeeds at once for an empty batch', async () => {
    const exporter = new KafkaSpanExporter({ kafka: { brokers: UNREACHABLE } }, {});
    const result = await new Promise<ExportResult>((resolve) => exporter.export([], resolve));
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    await exporter.shutdown();
  });
});
