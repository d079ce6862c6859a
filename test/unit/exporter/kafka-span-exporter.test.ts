// What the exporter does without a reachable broker: configuration errors at construction, FAILED after
// shutdown, FAILED with a clear error when the serializer throws, and exactly one callback each time; then,
// with DeliveryProducer stubbed, its own logic around connecting, shutdown, fatal errors and metrics.
// (Delivery itself is tested in test/integration/exporter, against the real broker.)
import type { Attributes, MeterProvider } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { ConfigError, ProduceError } from '../../../src/errors/errors';
import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import { DeliveryProducer } from '../../../src/kafka/delivery-producer';
import type { ProducerMessage } from '../../../src/kafka/delivery-producer';
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
    [{ kafka: { brokers: UNREACHABLE }, exporter: { maxMessageBytes: 1024 } }, 'exporter.maxMessageBytes'],
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

  it('throws when a custom content type leaves too little of a message for spans', () => {
    const serializer = { contentType: 'x'.repeat(3_000), serialize: () => new Uint8Array() };
    const config = { kafka: { brokers: UNREACHABLE }, exporter: { maxMessageBytes: 4096 }, serializer };
    expect(() => new KafkaSpanExporter(config, {})).toThrow(/invalid config serializer: contentType is too long/);
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

// ------------------------------------------------------------------------------------------------------
// With a stubbed producer: the exporter's own logic around connecting, shutdown, fatal errors and metrics.

interface FakeProducer {
  sends: {
    messages: ProducerMessage[];
    onAck?: (i: number) => void;
    resolve: () => void;
    reject: (e: unknown) => void;
  }[];
  fatalError: ProduceError | undefined;
  disconnects: number;
  send(topic: string, messages: readonly ProducerMessage[], onAck?: (i: number) => void): Promise<void>;
  disconnect(): Promise<void>;
}

function fakeProducer(): FakeProducer {
  const fake: FakeProducer = {
    sends: [],
    fatalError: undefined,
    disconnects: 0,
    send(_topic, messages, onAck) {
      return new Promise((resolve, reject) => fake.sends.push({ messages: [...messages], onAck, resolve, reject }));
    },
    disconnect() {
      fake.disconnects += 1;
      return Promise.resolve();
    },
  };
  return fake;
}

/** Replaces DeliveryProducer.connect: each call takes the next deferred connection. */
function stubConnect(): { calls: number; connect(p: FakeProducer): void; fail(e: unknown): void } {
  const pending: { resolve: (p: DeliveryProducer) => void; reject: (e: unknown) => void }[] = [];
  const stub = {
    calls: 0,
    connect: (p: FakeProducer) => pending.shift()?.resolve(p as unknown as DeliveryProducer),
    fail: (e: unknown) => pending.shift()?.reject(e),
  };
  jest.spyOn(DeliveryProducer, 'connect').mockImplementation(() => {
    stub.calls += 1;
    return new Promise((resolve, reject) => pending.push({ resolve, reject }));
  });
  return stub;
}

function exportAsync(exporter: KafkaSpanExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A MeterProvider that sums each counter's adds, by name and `error.type`. */
function countingMeterProvider(): { provider: MeterProvider; sums: Map<string, number> } {
  const sums = new Map<string, number>();
  const meter = {
    createCounter: (name: string) => ({
      add: (n: number, attrs?: Attributes) => {
        const key = attrs?.['error.type'] ? `${name}{${String(attrs['error.type'])}}` : name;
        sums.set(key, (sums.get(key) ?? 0) + n);
      },
    }),
    createHistogram: () => ({ record: () => undefined }),
    createObservableGauge: () => ({ addCallback: () => undefined }),
  };
  return { provider: { getMeter: () => meter } as unknown as MeterProvider, sums };
}

describe('KafkaSpanExporter with a stubbed producer', () => {
  afterEach(() => jest.restoreAllMocks());

  it('produces and acknowledges an export that waits for the first connection when shutdown() is called', async () => {
    const stub = stubConnect();
    const exporter = new KafkaSpanExporter({ kafka: { brokers: UNREACHABLE } }, {});
    const producer = fakeProducer();

    const result = exportAsync(exporter, makeSpans({ traces: 2, spansPerTrace: 2 }));
    await tick();
    const shutdown = exporter.shutdown();
    let shutDown = false;
    void shutdown.then(() => (shutDown = true));

    stub.connect(producer);
    await tick();
    expect(producer.sends).toHaveLength(1);
    expect(producer.disconnects).toBe(0);
    expect(shutDown).toBe(false);

    producer.sends[0]?.resolve();
    expect((await result).code).toBe(ExportResultCode.SUCCESS);
    await shutdown;
    expect(producer.disconnects).toBe(1);
    expect((await exportAsync(exporter, makeSpans())).error?.name).toBe('ShutdownError');
  });

  it('disconnects a connection that completes after shutdown, when no export waits for it any more', async () => {
    const stub = stubConnect();
    const exporter = new KafkaSpanExporter({ kafka: { brokers: UNREACHABLE }, exporter: { timeoutMillis: 20 } }, {});
    const result = await exportAsync(exporter, makeSpans());
    expect(result.error?.name).toBe('TimeoutError');
    await exporter.shutdown();
    const late = fakeProducer();
    stub.connect(late);
    await tick();
    expect(late.disconnects).toBe(1);
  });

  it('replaces a producer that hit a fatal error on the next export', async () => {
    const stub = stubConnect();
    const exporter = new KafkaSpanExporter({ kafka: { brokers: UNREACHABLE } }, {});
    const first = fakeProducer();
    const firstExport = exportAsync(exporter, makeSpans());
    stub.connect(first);
    await tick();
    const fatal = new ProduceError('the Kafka producer hit a fatal error', {
      retriable: true,
      kafkaName: 'ERR__FATAL',
    });
    first.fatalError = fatal;
    first.sends[0]?.reject(fatal);
    expect((await firstExport).error).toBe(fatal);

    const second = fakeProducer();
    const secondExport = exportAsync(exporter, makeSpans());
    await tick();
    expect(stub.calls).toBe(2);
    expect(first.disconnects).toBe(1);
    stub.connect(second);
    await tick();
    second.sends[0]?.resolve();
    expect((await secondExport).code).toBe(ExportResultCode.SUCCESS);
    await exporter.shutdown();
  });

  it('counts acknowledged messages as exported and only the others as failed', async () => {
    const stub = stubConnect();
    const { provider, sums } = countingMeterProvider();
    const exporter = new KafkaSpanExporter({ kafka: { brokers: UNREACHABLE }, meterProvider: provider }, {});
    const producer = fakeProducer();
    const result = exportAsync(exporter, makeSpans({ traces: 3, spansPerTrace: 2 }));
    stub.connect(producer);
    await tick();
    const send = producer.sends[0];
    expect(send?.messages).toHaveLength(3);
    send?.onAck?.(0);
    send?.onAck?.(2);
    send?.reject(Object.assign(new Error('Local: Message timed out'), { code: -192 }));
    expect((await result).code).toBe(ExportResultCode.FAILED);

    expect(sums.get('otel_kafka_jaeger.exporter.spans.exported')).toBe(4);
    expect(sums.get('otel_kafka_jaeger.exporter.messages')).toBe(2);
    expect(sums.get('otel_kafka_jaeger.exporter.bytes')).toBe(
      (send?.messages[0]?.value.length ?? 0) + (send?.messages[2]?.value.length ?? 0),
    );
    expect(sums.get('otel_kafka_jaeger.exporter.spans.failed{PRODUCE_FAILED}')).toBe(2);
    await exporter.shutdown();
  });

  it('splits below a lower passthrough message.max.bytes, leaving room for key and headers', async () => {
    const stub = stubConnect();
    const limit = 8_192;
    const exporter = new KafkaSpanExporter(
      { kafka: { brokers: UNREACHABLE, rdkafka: { 'message.max.bytes': limit } } },
      {},
    );
    const producer = fakeProducer();
    const result = exportAsync(exporter, makeSpans({ spansPerTrace: 60, attributeBytes: 500 }));
    stub.connect(producer);
    await tick();
    const sent = producer.sends[0]?.messages ?? [];
    expect(sent.length).toBeGreaterThan(3);
    for (const m of sent) {
      const headers = Object.entries(m.headers).reduce((n, [k, v]) => n + k.length + v.length, 0);
      expect(m.value.length + (m.key?.length ?? 0) + headers + 100).toBeLessThanOrEqual(limit);
    }
    producer.sends[0]?.resolve();
    expect((await result).code).toBe(ExportResultCode.SUCCESS);
    await exporter.shutdown();
  });
});

describe('KafkaSpanExporter passthrough checks at construction', () => {
  it.each([
    [{ 'linger.msec': 5 }, "kafka.rdkafka['linger.msec']"],
    [{ 'socket.keepalive.enable': 'sometimes' }, "kafka.rdkafka['socket.keepalive.enable']"],
    [{ acks: 1 }, "kafka.rdkafka['acks']"],
    [{ 'message.max.bytes': 2048 }, "kafka.rdkafka['message.max.bytes']"],
  ])('%j → ConfigError naming %s', (rdkafka, field) => {
    let error: unknown;
    try {
      new KafkaSpanExporter({ kafka: { brokers: UNREACHABLE, rdkafka } }, {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
  });

  it('warns about overrides that weaken delivery', () => {
    const warnings: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (m: string) => warnings.push(m),
      error: () => undefined,
    };
    new KafkaSpanExporter(
      { kafka: { brokers: UNREACHABLE, rdkafka: { 'enable.idempotence': false, acks: 1 } }, logger },
      {},
    );
    expect(warnings).toHaveLength(2);
  });
});
