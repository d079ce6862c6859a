import { assertProducerConfigAccepted } from '../../../src/kafka/native-config';
import { configError } from '../helpers/config';

const base = { 'bootstrap.servers': '127.0.0.1:1', acks: -1, 'enable.idempotence': true };

describe('assertProducerConfigAccepted', () => {
  it('accepts what librdkafka accepts', () => {
    const passthrough = { 'socket.keepalive.enable': true, 'linger.ms': 5 };
    expect(() => assertProducerConfigAccepted({ ...base, ...passthrough }, passthrough)).not.toThrow();
  });

  it('names the passthrough property librdkafka rejects', () => {
    const unknown = { 'linger.msec': 5 };
    const err = configError(() => assertProducerConfigAccepted({ ...base, ...unknown }, unknown));
    expect(err.field).toBe("kafka.rdkafka['linger.msec']");
    expect(err.message).toMatch(/No such configuration property/);

    const invalid = { 'socket.keepalive.enable': 'sometimes', 'linger.ms': 5 };
    expect(configError(() => assertProducerConfigAccepted({ ...base, ...invalid }, invalid)).field).toBe(
      "kafka.rdkafka['socket.keepalive.enable']",
    );
  });

  it('never shows the value of a secret property', () => {
    const secret = { 'sasl.password': 'hunter2', 'sasl.passwordd': 'hunter2' };
    const err = configError(() => assertProducerConfigAccepted({ ...base, ...secret }, secret));
    expect(err.field).toBe("kafka.rdkafka['sasl.passwordd']");
    expect(err.message).not.toContain('hunter2');
  });
});
