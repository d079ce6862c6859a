import { DEFAULTS } from '../../../src/config/defaults';
import { createForwarderConfig } from '../../../src/forwarder/forwarder-config';
import type { Sink } from '../../../src/sinks/sink';
import { fieldOf } from '../helpers/config';

describe('createForwarderConfig', () => {
  it('applies defaults: group, OTLP/HTTP sink, <topic>.dlq, dead-letter mode', () => {
    const f = createForwarderConfig({}, 'otlp_spans', {});
    expect(f.groupId).toBe('otel-kafka-jaeger');
    expect(f.sink.name).toBe('otlp-http');
    expect(f.deadLetterTopic).toBe('otlp_spans.dlq');
    expect(f.onUndeliverable).toBe('dead-letter');
    expect(f.maxRecords).toBe(DEFAULTS.forwarder.maxRecords);
    expect(f.retry.nextDelay(1, new Error('x'))).toMatchObject({ retry: true });
  });

  it('reads group, sink URL and dead-letter topic from the environment', () => {
    const env = {
      OTEL_KAFKA_FORWARDER_GROUP_ID: 'env-group',
      OTEL_KAFKA_FORWARDER_SINK_URL: 'http://jaeger:4318/v1/traces',
      OTEL_KAFKA_FORWARDER_DEAD_LETTER_TOPIC: 'env.dlq',
    };
    const f = createForwarderConfig({}, 't', env);
    expect(f.groupId).toBe('env-group');
    expect(f.deadLetterTopic).toBe('env.dlq');
    expect(createForwarderConfig({ forwarder: { groupId: 'code' } }, 't', env).groupId).toBe('code');
  });

  it('accepts onUndeliverable in either place, and a custom sink', () => {
    const sink: Sink = { name: 'mine', send: () => Promise.resolve(), close: () => Promise.resolve() };
    expect(createForwarderConfig({ forwarder: { onUndeliverable: 'drop', sink } }, 't', {}).onUndeliverable).toBe(
      'drop',
    );
    expect(
      createForwarderConfig({ forwarder: { deadLetter: { onUndeliverable: 'block' } } }, 't', {}).onUndeliverable,
    ).toBe('block');
    expect(createForwarderConfig({ forwarder: { sink } }, 't', {}).sink).toBe(sink);
  });

  it.each([
    [{ forwarder: { groupId: '' } }, 'forwarder.groupId'],
    [{ forwarder: { onUndeliverable: 'ignore' } }, 'forwarder.onUndeliverable'],
    [{ forwarder: { onUndeliverable: 'drop', deadLetter: { onUndeliverable: 'block' } } }, 'forwarder.onUndeliverable'],
    [{ forwarder: { deadLetter: { topic: 'bad topic' } } }, 'forwarder.deadLetter.topic'],
    [{ forwarder: { deadLetter: { topic: 't' } } }, 'forwarder.deadLetter.topic'],
    [{ forwarder: { sink: { type: 'carrier-pigeon' } } }, 'forwarder.sink.type'],
    [{ forwarder: { sink: { type: 'otlp-http', url: 'ftp://x' } } }, 'forwarder.sink.url'],
    [{ forwarder: { sink: { type: 'otlp-http', timeoutMillis: -1 } } }, 'forwarder.sink.timeoutMillis'],
    [{ forwarder: { sink: { name: 'x', send: () => undefined } } }, 'forwarder.sink'],
    [{ forwarder: { batch: { maxRecords: 0 } } }, 'forwarder.batch.maxRecords'],
    [{ forwarder: { batch: { lingerMillis: -5 } } }, 'forwarder.batch.lingerMillis'],
    [{ forwarder: { maxInFlightRequests: 1.5 } }, 'forwarder.maxInFlightRequests'],
    [{ forwarder: { maxBufferedBytes: 10 } }, 'forwarder.maxBufferedBytes'],
    [{ forwarder: { commitIntervalMillis: 0 } }, 'forwarder.commitIntervalMillis'],
    [{ forwarder: { stopTimeoutMillis: -1 } }, 'forwarder.stopTimeoutMillis'],
    [{ retry: { maxDelayMillis: -1 } }, 'retry.maxDelayMillis'],
  ])('%j → ConfigError naming %s', (config, field) => {
    expect(fieldOf(() => createForwarderConfig(config, 't', {}))).toBe(field);
  });
});

describe('createForwarderConfig sinks', () => {
  it('creates the configured built-in sink', () => {
    expect(createForwarderConfig({ forwarder: { sink: { type: 'otlp-grpc' } } }, 't', {}).sink.name).toBe('otlp-grpc');
    expect(createForwarderConfig({ forwarder: { sink: { type: 'jaeger-thrift-http' } } }, 't', {}).sink.name).toBe(
      'jaeger-thrift-http',
    );
  });

  it('ignores a malformed OTEL_KAFKA_FORWARDER_SINK_URL instead of throwing', () => {
    const warnings: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (m: string) => warnings.push(m),
      error: () => undefined,
    };
    const f = createForwarderConfig({}, 't', { OTEL_KAFKA_FORWARDER_SINK_URL: '::nonsense::' }, logger);
    expect(f.sink.name).toBe('otlp-http');
    expect(warnings.join('\n')).toMatch(/ignoring OTEL_KAFKA_FORWARDER_SINK_URL=\(redacted\)/);
  });

  it('still lets the sink check header names in detail', () => {
    expect(
      fieldOf(() =>
        createForwarderConfig(
          { forwarder: { sink: { type: 'otlp-http', headers: { 'content-type': 'x' } } } },
          't',
          {},
        ),
      ),
    ).toBe('forwarder.sink.headers.content-type');
  });
});
