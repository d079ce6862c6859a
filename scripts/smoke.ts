// `npm run smoke`: the main job until the outage demo exists. Brings the real stack up, then moves one
// OTLP trace the way the library will: SDK spans → OTLP protobuf → Kafka topic → read back → Jaeger's
// OTLP/HTTP endpoint → Jaeger's query API, printing each step.
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';

import { KafkaJS } from '@confluentinc/kafka-javascript';
import { context, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import { stackEndpoints, stackUp } from './stack/stack';

const step = (msg: string): void => console.log(`smoke: ${msg}`);

async function main(): Promise<void> {
  const t0 = Date.now();
  const endpoints = stackEndpoints();
  if (!endpoints.external) {
    const started = await stackUp();
    step(
      `stack up in ${Date.now() - t0} ms (started kafka: ${started.startedKafka}, jaeger: ${started.startedJaeger})`,
    );
  }
  step(`kafka ${endpoints.kafkaBrokers.join(',')}, jaeger OTLP ${endpoints.jaegerOtlpHttpUrl}`);

  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'okj-smoke' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('okj-smoke');
  const root = tracer.startSpan('GET /checkout');
  for (const name of ['load cart', 'price items', 'charge card']) {
    tracer.startSpan(name, {}, trace.setSpan(context.active(), root)).end();
  }
  root.end();
  const spans = exporter.getFinishedSpans();
  const traceId = root.spanContext().traceId;
  const value = ProtobufTraceSerializer.serializeRequest(spans);
  if (!value) throw new Error('serializer returned nothing');
  step(`ended ${spans.length} spans of trace ${traceId}; OTLP protobuf ${value.length} bytes`);

  const kafka = new KafkaJS.Kafka({ kafkaJS: { brokers: endpoints.kafkaBrokers, logLevel: KafkaJS.logLevel.NOTHING } });
  const topic = `okj-smoke-${randomBytes(4).toString('hex')}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
  await admin.disconnect();
  const producer = kafka.producer({ kafkaJS: { acks: -1, idempotent: true } });
  await producer.connect();
  const [meta] = await producer.send({
    topic,
    messages: [{ key: traceId, value: Buffer.from(value), headers: { 'content-type': 'application/x-protobuf' } }],
  });
  await producer.disconnect();
  step(`produced to ${topic} partition ${meta?.partition} (acks=all), key = trace id`);

  const consumer = kafka.consumer({ kafkaJS: { groupId: `${topic}-group`, fromBeginning: true, autoCommit: false } });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  const record = await new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no record within 30 s')), 30_000);
    void consumer.run({
      eachMessage: ({ message }) => {
        clearTimeout(timer);
        if (message.value) resolve(message.value);
        return Promise.resolve();
      },
    });
  });
  await consumer.disconnect();
  step(`consumed ${record.length} bytes back from Kafka`);

  const res = await fetch(endpoints.jaegerOtlpHttpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body: record,
  });
  step(`POST ${endpoints.jaegerOtlpHttpUrl} → HTTP ${res.status}`);
  if (!res.ok) throw new Error(`Jaeger answered ${res.status}`);

  const deadline = Date.now() + 30_000;
  for (;;) {
    const got = await fetch(`${endpoints.jaegerQueryUrl}/api/v3/traces/${traceId}?raw_traces=true`);
    if (got.ok) {
      const body = (await got.json()) as { result: { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] } };
      const count = body.result.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)).length;
      step(`Jaeger returns trace ${traceId} with ${count} of ${spans.length} spans`);
      if (count >= spans.length) break;
    }
    if (Date.now() > deadline) throw new Error(`trace ${traceId} not complete in Jaeger within 30 s`);
    await delay(100);
  }
  step(`ok in ${Date.now() - t0} ms; the stack keeps running (npm run stack:down stops it)`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`smoke: FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
