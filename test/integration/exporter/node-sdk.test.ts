// KafkaSpanExporter as NodeSDK's traceExporter, the way most applications wire an exporter.
import { trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';

import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import { decodeTraceRequest } from '../../../src/serializers/otlp/decode';
import { createTopic } from '../harness/kafka';
import { readToEnd, testConfig } from './helpers';

describe('KafkaSpanExporter as NodeSDK traceExporter', () => {
  it('delivers the spans of a started SDK to the topic', async () => {
    const topic = await createTopic();
    const sdk = new NodeSDK({
      serviceName: 'node-sdk-it',
      traceExporter: new KafkaSpanExporter(testConfig(topic)),
      instrumentations: [],
    });
    sdk.start();
    const span = trace.getTracer('node-sdk-it').startSpan('via NodeSDK');
    span.end();
    await sdk.shutdown();

    const records = await readToEnd(topic);
    expect(records).toHaveLength(1);
    const decoded = decodeTraceRequest(records[0]!.value!);
    const spans = decoded.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    expect(spans.map((s) => s.spanId)).toEqual([span.spanContext().spanId]);
    expect(decoded.resourceSpans[0]?.resource.attributes['service.name']).toBe('node-sdk-it');
  });
});
