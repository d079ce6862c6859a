// A forwarder in its own process, for crash and signal tests: config as JSON in OKJ_FORWARDER_CONFIG,
// prints one JSON line per event, stops gracefully on SIGTERM and exits 0.
import { KafkaToJaegerForwarder } from '../../../src/forwarder/kafka-to-jaeger-forwarder';
import type { OtelKafkaJaegerConfig } from '../../../src/config/types';

const config = JSON.parse(process.env.OKJ_FORWARDER_CONFIG ?? '{}') as OtelKafkaJaegerConfig;
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
