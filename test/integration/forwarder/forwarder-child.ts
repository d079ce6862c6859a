// A forwarder in its own process, for crash and signal tests: config as JSON in OKJ_FORWARDER_CONFIG,
// prints one JSON line per event, stops gracefully on SIGTERM and exits 0.
//
// With OKJ_CHILD_MIN_REQUEST_MILLIS=D, every sink request takes at least D ms (the OTLP/HTTP sink of the
// config behind a delay): a config-derived ceiling on throughput, maxInFlightRequests × batch.maxRecords
// records per D ms, which is what lets a test bound the records accepted but not yet committed at a kill.
import { setTimeout as delay } from 'node:timers/promises';

import { KafkaToJaegerForwarder } from '../../../src/forwarder/kafka-to-jaeger-forwarder';
import type { OtelKafkaJaegerConfig } from '../../../src/config/types';
import { otlpHttpSink } from '../../../src/sinks/otlp-http-sink';
import type { OtlpHttpSinkOptions } from '../../../src/sinks/otlp-http-sink-options';
import type { Sink } from '../../../src/sinks/sink';

const config = JSON.parse(process.env.OKJ_FORWARDER_CONFIG ?? '{}') as OtelKafkaJaegerConfig;
const minRequestMillis = Number(process.env.OKJ_CHILD_MIN_REQUEST_MILLIS ?? 0);
if (minRequestMillis > 0) {
  const inner = otlpHttpSink(config.forwarder?.sink as OtlpHttpSinkOptions);
  const paced: Sink = {
    name: 'paced-otlp-http',
    async send(records, options) {
      await delay(minRequestMillis);
      return inner.send(records, options);
    },
    close: () => inner.close(),
  };
  config.forwarder = { ...config.forwarder, sink: paced };
}
const forwarder = new KafkaToJaegerForwarder(config);
const emit = (event: string, extra: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ event, at: Date.now(), ...extra })}\n`);
};

process.on('SIGTERM', () => {
  emit('sigterm');
  forwarder.stop().then(
    () => {
      emit('stopped', { health: forwarder.health() });
      process.exit(0);
    },
    (err: unknown) => {
      emit('stop-failed', { error: String(err) });
      process.exit(1);
    },
  );
});

forwarder.start().then(
  () => emit('started'),
  (err: unknown) => {
    emit('start-failed', { error: String(err) });
    process.exit(1);
  },
);
