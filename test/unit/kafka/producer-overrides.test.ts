import { resolveExporterConfig } from '../../../src/config/exporter';
import { resolveKafkaConfig } from '../../../src/config/kafka';
import type { RdKafkaValue } from '../../../src/config/types';
import { checkProducerOverrides } from '../../../src/kafka/producer-overrides';
import { fieldOf } from '../helpers/config';

function check(rdkafka: Record<string, RdKafkaValue>): string[] {
  const warnings: string[] = [];
  const logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (m: string) => warnings.push(m),
    error: () => undefined,
  };
  const config = { kafka: { brokers: ['a:9092'], rdkafka } };
  checkProducerOverrides(resolveKafkaConfig(config, {}), resolveExporterConfig(config, {}), logger);
  return warnings;
}

describe('checkProducerOverrides', () => {
  it('accepts overrides that keep the guarantees, silently', () => {
    expect(check({})).toEqual([]);
    expect(check({ acks: 'all', 'enable.idempotence': true, 'max.in.flight': 5, 'message.timeout.ms': 5_000 })).toEqual(
      [],
    );
    expect(check({ 'request.required.acks': -1, retries: 3 })).toEqual([]);
  });

  it.each([
    [{ acks: 1 }, "kafka.rdkafka['acks']"],
    [{ 'request.required.acks': '0' }, "kafka.rdkafka['request.required.acks']"],
    [{ acks: 1, 'enable.idempotence': true }, "kafka.rdkafka['acks']"],
    [{ 'max.in.flight.requests.per.connection': 10 }, "kafka.rdkafka['max.in.flight.requests.per.connection']"],
    [{ retries: 0 }, "kafka.rdkafka['retries']"],
  ])('%j contradicts the idempotent producer: ConfigError naming %s', (rdkafka, field) => {
    expect(fieldOf(() => check(rdkafka))).toBe(field);
  });

  it('warns when idempotence is turned off, and about weak acks then', () => {
    expect(check({ 'enable.idempotence': false })).toEqual([expect.stringMatching(/enable\.idempotence.*duplicate/)]);
    const warnings = check({ 'enable.idempotence': 'false', acks: 1 });
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatch(/kafka\.rdkafka\['acks'\] is 1: .*no longer guarantees/);
  });

  it('warns about a message timeout beyond the export timeout', () => {
    expect(check({ 'message.timeout.ms': 60_000 })).toEqual([
      expect.stringMatching(/longer than exporter\.timeoutMillis/),
    ]);
    expect(check({ 'delivery.timeout.ms': 0 })).toEqual([expect.stringMatching(/infinite/)]);
  });
});
