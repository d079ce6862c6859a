// A process whose Kafka is unreachable, run as a child so a test can see when it exits. It never calls
// process.exit: it ends when nothing keeps Node's event loop alive. OKJ_UNREACHABLE_CONFIG holds the config
// (JSON); OKJ_UNREACHABLE_MODE:
//   exporter:  exports one span, then calls shutdown(): prints {"event":"exported",...} and {"event":"shutdown"}
//              right before calling it, {"event":"shut down"} once it resolved.
//   start:     calls forwarder.start() and prints {"event":"start failed",...} when it rejects.
//   stop:      calls forwarder.start(); on the first connection problem librdkafka logs, prints
//              {"event":"stopping"} and calls stop(); prints how start() and stop() ended.
import { ExportResultCode } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import type { OtelKafkaJaegerConfig } from '../../../src/config/types';
import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import { KafkaToJaegerForwarder } from '../../../src/forwarder/kafka-to-jaeger-forwarder';
import type { Logger } from '../../../src/logging/logger';

const config = JSON.parse(process.env.OKJ_UNREACHABLE_CONFIG ?? '{}') as OtelKafkaJaegerConfig;
const mode = process.env.OKJ_UNREACHABLE_MODE ?? 'exporter';
const say = (o: Record<string, unknown>): boolean => process.stdout.write(`${JSON.stringify(o)}\n`);
const describeError = (err: unknown): Record<string, unknown> => ({
  name: (err as Error).name,
  code: (err as { code?: unknown }).code,
  message: (err as Error).message,
});

let onProblem: (() => void) | undefined;
const logger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (message) => {
    if (/Connect to .* failed/.test(message)) onProblem?.();
  },
  error: () => {},
};

async function exporterMode(): Promise<void> {
  const exporter = new KafkaSpanExporter({ ...config, logger });
  const ended = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(ended)] }).getTracer('okj');
  tracer.startSpan('op').end();
  const result = await new Promise<{ code: ExportResultCode; error?: Error }>((resolve) =>
    exporter.export(ended.getFinishedSpans(), resolve),
  );
  say({ event: 'exported', success: result.code === ExportResultCode.SUCCESS, error: result.error?.message });
  say({ event: 'shutdown' });
  await exporter.shutdown();
  say({ event: 'shut down' });
}

async function startMode(): Promise<void> {
  const forwarder = new KafkaToJaegerForwarder({ ...config, logger });
  say({ event: 'starting' });
  await forwarder.start().then(
    () => say({ event: 'started' }),
    (err: unknown) => say({ event: 'start failed', ...describeError(err) }),
  );
  await forwarder.stop();
}

async function stopMode(): Promise<void> {
  const forwarder = new KafkaToJaegerForwarder({ ...config, logger });
  const started = forwarder.start().then(
    () => say({ event: 'started' }),
    (err: unknown) => say({ event: 'start failed', ...describeError(err) }),
  );
  await new Promise<void>((resolve) => (onProblem = resolve));
  say({ event: 'stopping' });
  await forwarder.stop();
  say({ event: 'stopped' });
  await started;
}

const run = mode === 'exporter' ? exporterMode : mode === 'start' ? startMode : stopMode;
run().catch((err: unknown) => {
  say({ event: 'crashed', ...describeError(err) });
  process.exitCode = 1;
});
