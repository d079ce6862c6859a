// "Never traces itself": with a real TracerProvider registered globally that exports through the
// KafkaSpanExporter, live HTTP instrumentation, and a forwarder started under an active span, the
// library's own I/O creates no span. Were it traced, each export would beget spans that are exported in
// turn (a feedback loop). The Kafka client has no OpenTelemetry instrumentation to install, so the
// native producer's produce() is wrapped here the way an instrumentation would wrap it: a span under the
// active context. Both hooks are first shown to record spans from the test's own code, so their silence
// during exporting and forwarding means suppressed, not unhooked.
import http from 'node:http';

import kafkaJavascript from '@confluentinc/kafka-javascript';
import { context, trace } from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import { createTopic } from '../harness/kafka';
import { waitForTrace } from '../harness/jaeger';
import { uniqueName } from '../harness/names';
import { endpoints } from '../harness/stack';
import { forwarderConfig, startForwarder, waitForCommitsAtEnd } from '../forwarder/helpers';
import { SUCCESS, exportSpans, idsOf, readToEnd, sortedIds, spanIdsOf, testConfig } from './helpers';

const truth = new InMemorySpanExporter();
let provider: NodeTracerProvider | undefined;
let unhook: (() => void) | undefined;
let unpatch: (() => void) | undefined;
const prototype = kafkaJavascript.Producer.prototype;
// eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with the producer as `this`
const produce = prototype.produce;
let produceCalls = 0;

afterAll(async () => {
  prototype.produce = produce;
  unpatch?.();
  unhook?.();
  await provider?.shutdown();
  trace.disable();
  context.disable();
});

/** A finished span from a provider of its own (not the global one, so it is no span of the test's). */
function spansOfAnotherProvider(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] })
    .getTracer('elsewhere')
    .startSpan('exported directly')
    .end();
  return memory.getFinishedSpans();
}

/** A GET from the test's own code, outside any suppression: HTTP instrumentation traces it. */
function get(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .request(url, (res) => {
        res.resume();
        res.on('end', resolve);
      })
      .on('error', reject)
      .end();
  });
}

describe('the library never traces itself', () => {
  it('exporting and forwarding under a global TracerProvider with instrumentation create no span of their own', async () => {
    const topic = await createTopic();
    const service = uniqueName('okj-self');
    const instrumentation = new HttpInstrumentation();
    unhook = registerInstrumentations({ instrumentations: [instrumentation] });
    // Its require hook never sees node:http inside jest's module sandbox, so apply its own patch directly.
    const definition = instrumentation.getModuleDefinitions().find((d) => d.name === 'http');
    definition?.patch?.(http, process.versions.node);
    unpatch = () => definition?.unpatch?.(http, process.versions.node);
    prototype.produce = function (this: unknown, ...args: Parameters<typeof produce>): ReturnType<typeof produce> {
      produceCalls++;
      trace.getTracer('kafka-instrumentation').startSpan('kafka produce').end();
      return Reflect.apply<unknown, Parameters<typeof produce>, ReturnType<typeof produce>>(produce, this, args);
    };
    const exporter = new KafkaSpanExporter(testConfig(topic));
    provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service }),
      spanProcessors: [new SimpleSpanProcessor(truth), new BatchSpanProcessor(exporter, { scheduledDelayMillis: 50 })],
    });
    provider.register();
    const tracer = trace.getTracer('app');

    // The hooks are live: the test's own HTTP call and its own produce are traced.
    await get(`${endpoints.jaegerQueryUrl}/api/v3/services`);
    try {
      prototype.produce.call({}, topic, null, Buffer.from('x')); // no client behind it
    } catch {
      // traced all the same
    }
    const probes = truth.getFinishedSpans();
    expect(probes.map((s) => s.name)).toEqual(['GET', 'kafka produce']);
    truth.reset();
    produceCalls = 0;

    // The forwarder runs under an active span, as it would inside a traced host process.
    const host = tracer.startSpan('forwarder host');
    const groupId = uniqueName('okj-self-fwd');
    await context.with(trace.setSpan(context.active(), host), () =>
      startForwarder(forwarderConfig(topic, { groupId })),
    );
    host.end();

    const root = tracer.startSpan('app work');
    tracer.startSpan('app step', {}, trace.setSpan(context.active(), root)).end();
    root.end();
    await provider.forceFlush();
    // The SDK's processors already suppress tracing around export(); code that calls export() itself, under
    // its own active span, relies on the exporter's suppression alone.
    const caller = tracer.startSpan('direct caller');
    const direct = spansOfAnotherProvider();
    const result = await context.with(trace.setSpan(context.active(), caller), () => exportSpans(exporter, direct));
    expect(result.code).toBe(SUCCESS);
    caller.end();
    await waitForTrace(root.spanContext().traceId, { spanCount: 2 });
    await waitForCommitsAtEnd(groupId, topic);
    // Whatever the exporter and the forwarder did meanwhile ended its spans and exported them, if any.
    await provider.forceFlush();

    expect(produceCalls).toBeGreaterThan(0);
    const own = truth.getFinishedSpans();
    expect(own.map((s) => s.name).sort()).toEqual(['app step', 'app work', 'direct caller', 'forwarder host']);
    // Nothing else reached the topic either: the probes' spans, the test's own and the direct export's, once each.
    expect(sortedIds(spanIdsOf(await readToEnd(topic)))).toEqual(sortedIds(idsOf([...probes, ...own, ...direct])));
  });
});
