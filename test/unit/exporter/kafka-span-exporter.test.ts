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
import type { ProducerMessage, SendBatch, TopicLayout } from '../../../src/kafka/delivery-producer';
import { crc32, murmur2 } from '../../../src/kafka/partitioner';
import { decodeTraceRequest } from '../../../src/serializers/otlp/decode';
import { otlpProtoSerializer } from '../../../src/serializers/otlp-serializers';
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
  /** What topicLayout() answers; undefined: the read fails (as for a topic that does not exist yet). */
  layout: TopicLayout | undefined;
  layoutReads: number;
  topicLayout(topic: string, timeoutMillis: number): Promise<TopicLayout>;
  send(topic: string, messages: readonly ProducerMessage[], onAck?: (i: number) => void): Promise<void>;
  /** Like send(), its messages recorded as they are added. */
  openBatch(topic: string, onAck?: (i: number) => void): SendBatch;
  disconnect(): Promise<void>;
}

function fakeProducer(): FakeProducer {
  const fake: FakeProducer = {
    sends: [],
    fatalError: undefined,
    disconnects: 0,
    layout: undefined,
    layoutReads: 0,
    topicLayout() {
      fake.layoutReads += 1;
      return fake.layout ? Promise.resolve(fake.layout) : Promise.reject(new Error('no such topic'));
    },
    send(_topic, messages, onAck) {
      return new Promise((resolve, reject) => fake.sends.push({ messages: [...messages], onAck, resolve, reject }));
    },
    openBatch(_topic, onAck) {
      const messages: ProducerMessage[] = [];
      let resolve!: () => void;
      let reject!: (e: unknown) => void;
      const done = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      fake.sends.push({ messages, onAck, resolve, reject });
      // As librdkafka's produce (RK_MSG_COPY): the value is copied during add(); the exporter may reuse its bytes.
      return { add: (m) => void messages.push({ ...m, value: Buffer.from(m.value) }), end: () => done };
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

describe('KafkaSpanExporter message shapes', () => {
  afterEach(() => jest.restoreAllMocks());

  const allLeaders = (n: number): TopicLayout => ({ partitions: n, hasLeader: new Array<boolean>(n).fill(true) });

  /** Each message's span ids and trace ids, decoded. */
  function decoded(messages: ProducerMessage[]): { traceIds: Set<string>; spanIds: string[] }[] {
    return messages.map((m) => {
      const spans = decodeTraceRequest(m.value).resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
      return { traceIds: new Set(spans.map((x) => x.traceId)), spanIds: spans.map((x) => x.spanId) };
    });
  }

  /** Exports once and acknowledges it; returns what was sent. */
  async function exportAcked(exporter: KafkaSpanExporter, producer: FakeProducer, spans: ReadableSpan[]) {
    const before = producer.sends.length;
    const result = exportAsync(exporter, spans);
    await tick();
    const send = producer.sends[before];
    send?.resolve();
    expect((await result).code).toBe(ExportResultCode.SUCCESS);
    return send?.messages ?? [];
  }

  async function connectedExporter(
    config: Record<string, unknown>,
    layout: TopicLayout | undefined,
  ): Promise<{ exporter: KafkaSpanExporter; producer: FakeProducer }> {
    const stub = stubConnect();
    const exporter = new KafkaSpanExporter({ kafka: { brokers: UNREACHABLE }, ...config }, {});
    const producer = fakeProducer();
    producer.layout = layout;
    const first = exportAsync(exporter, makeSpans());
    stub.connect(producer);
    await tick();
    producer.sends[0]?.resolve();
    expect((await first).code).toBe(ExportResultCode.SUCCESS);
    return { exporter, producer };
  }

  it('by default sends one message per partition, to the partition its trace ids hash to (CRC-32, as librdkafka)', async () => {
    const { exporter, producer } = await connectedExporter({}, allLeaders(4));
    const spans = makeSpans({ traces: 40, spansPerTrace: 3 });
    const messages = await exportAcked(exporter, producer, spans);
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.length).toBeLessThanOrEqual(4);
    const contents = decoded(messages);
    messages.forEach((m, i) => {
      expect(m.key).toBeNull();
      for (const traceId of contents[i]?.traceIds ?? []) expect(crc32(traceId) % 4).toBe(m.partition);
    });
    expect(new Set(messages.map((m) => m.partition)).size).toBe(messages.length);
    expect(contents.flatMap((c) => c.spanIds).sort()).toEqual(spans.map((x) => x.spanContext().spanId).sort());
    await exporter.shutdown();
  });

  it('uses the partitioner configured in kafka.rdkafka', async () => {
    const config = { kafka: { brokers: UNREACHABLE, rdkafka: { partitioner: 'murmur2_random' } } };
    const { exporter, producer } = await connectedExporter(config, allLeaders(6));
    const messages = await exportAcked(exporter, producer, makeSpans({ traces: 30 }));
    const contents = decoded(messages);
    messages.forEach((m, i) => {
      for (const traceId of contents[i]?.traceIds ?? []) expect((murmur2(traceId) & 0x7fffffff) % 6).toBe(m.partition);
    });
    await exporter.shutdown();
  });

  it("gives a leaderless partition's spans to the next partition that has a leader", async () => {
    const layout = { partitions: 3, hasLeader: [true, false, true] };
    const { exporter, producer } = await connectedExporter({}, layout);
    const spans = makeSpans({ traces: 60 });
    const messages = await exportAcked(exporter, producer, spans);
    expect(messages.map((m) => m.partition).sort()).toEqual([0, 2]);
    const contents = decoded(messages);
    messages.forEach((m, i) => {
      for (const traceId of contents[i]?.traceIds ?? []) {
        const home = crc32(traceId) % 3;
        expect(m.partition).toBe(home === 1 ? 2 : home);
      }
    });
    expect(contents.flatMap((c) => c.spanIds)).toHaveLength(spans.length);
    await exporter.shutdown();
  });

  it('sends keyed per-trace messages while the partitions are unknown', async () => {
    const { exporter, producer } = await connectedExporter({}, undefined);
    const messages = await exportAcked(exporter, producer, makeSpans({ traces: 5, spansPerTrace: 2 }));
    expect(messages).toHaveLength(5);
    for (const [i, m] of messages.entries()) {
      expect(m.partition).toBeUndefined();
      expect([...(decoded(messages)[i]?.traceIds ?? [])]).toEqual([m.key]);
    }
    expect(producer.layoutReads).toBe(1);
    await exporter.shutdown();
  });

  it('rereads the partitions after topic.metadata.refresh.interval.ms and follows a grown topic', async () => {
    const config = { kafka: { brokers: UNREACHABLE, rdkafka: { 'topic.metadata.refresh.interval.ms': 1 } } };
    const { exporter, producer } = await connectedExporter(config, allLeaders(2));
    const first = await exportAcked(exporter, producer, makeSpans({ traces: 50 }));
    expect(first.every((m) => m.partition === 0 || m.partition === 1)).toBe(true);
    producer.layout = allLeaders(8);
    let partitions = new Set<number | undefined>();
    for (let i = 0; i < 50 && ![...partitions].some((p) => (p ?? 0) >= 2); i++) {
      await new Promise((r) => setTimeout(r, 2));
      partitions = new Set((await exportAcked(exporter, producer, makeSpans({ traces: 50 }))).map((m) => m.partition));
    }
    expect([...partitions].some((p) => (p ?? 0) >= 2)).toBe(true);
    await exporter.shutdown();
  });

  it("messagePer 'trace' keys one message per trace; 'batch' sends one unkeyed message", async () => {
    const perTrace = await connectedExporter({ exporter: { messagePer: 'trace' } }, allLeaders(4));
    const traced = await exportAcked(perTrace.exporter, perTrace.producer, makeSpans({ traces: 7, spansPerTrace: 2 }));
    expect(traced).toHaveLength(7);
    expect(traced.every((m) => m.partition === undefined && typeof m.key === 'string')).toBe(true);
    await perTrace.exporter.shutdown();

    const batch = await connectedExporter({ exporter: { messagePer: 'batch' } }, allLeaders(4));
    const batched = await exportAcked(batch.exporter, batch.producer, makeSpans({ traces: 7, spansPerTrace: 2 }));
    expect(batched).toHaveLength(1);
    expect(batched[0]?.key).toBeNull();
    expect(batched[0]?.partition).toBeUndefined();
    await batch.exporter.shutdown();
  });

  it('with a connected producer, produces each message as soon as it is encoded, before the export yields', async () => {
    const { exporter, producer } = await connectedExporter({}, allLeaders(4));
    const before = producer.sends.length;
    const result = exportAsync(exporter, makeSpans({ traces: 40, spansPerTrace: 3 }));
    // Synchronously within export(): no tick has passed.
    expect(producer.sends[before]?.messages.length).toBeGreaterThan(1);
    producer.sends[before]?.resolve();
    expect((await result).code).toBe(ExportResultCode.SUCCESS);
    await exporter.shutdown();
  });

  it('when encoding throws halfway, counts what was produced and acknowledged as exported, the rest as failed', async () => {
    const { provider, sums } = countingMeterProvider();
    let calls = 0;
    const inner = otlpProtoSerializer();
    // A session serializer (as the built-in one) whose second message fails to encode.
    const serializer = {
      contentType: inner.contentType,
      serialize: (spans: ReadableSpan[]) => inner.serialize(spans),
      session: () => (spans: ReadableSpan[]) => {
        if (++calls === 2) throw new TypeError('boom');
        return inner.serialize(spans);
      },
    };
    const { exporter, producer } = await connectedExporter({ serializer, meterProvider: provider }, allLeaders(2));
    calls = 0;
    const before = producer.sends.length;
    const exported = sums.get('otel_kafka_jaeger.exporter.spans.exported') ?? 0;
    const result = exportAsync(exporter, makeSpans({ traces: 40, spansPerTrace: 3 }));
    const send = producer.sends[before];
    expect(send?.messages).toHaveLength(1);
    send?.onAck?.(0);
    send?.resolve();
    const r = await result;
    expect(r.code).toBe(ExportResultCode.FAILED);
    expect(r.error?.message).toContain('boom');
    const spansInFirst = decodeTraceRequest(send!.messages[0]!.value).resourceSpans.flatMap((x) =>
      x.scopeSpans.flatMap((y) => y.spans),
    ).length;
    expect((sums.get('otel_kafka_jaeger.exporter.spans.exported') ?? 0) - exported).toBe(spansInFirst);
    expect(sums.get('otel_kafka_jaeger.exporter.spans.failed{SERIALIZATION_FAILED}')).toBe(120 - spansInFirst);
    await exporter.shutdown();
  });

  it('reads the deprecated partitionByTraceId when messagePer is not set', async () => {
    const legacy = await connectedExporter({ exporter: { partitionByTraceId: false } }, allLeaders(4));
    expect(await exportAcked(legacy.exporter, legacy.producer, makeSpans({ traces: 7 }))).toHaveLength(1);
    await legacy.exporter.shutdown();
  });
});
