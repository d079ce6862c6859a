import { KafkaJS } from '@confluentinc/kafka-javascript';

import { ConfigError, ProduceError } from '../../../src/errors/errors';
import { isRetriableKafkaCode, kafkaErrorName, toProduceError } from '../../../src/kafka/kafka-errors';

const code = (name: string): number => {
  const c = (KafkaJS.ErrorCodes as Record<string, number>)[name];
  if (c === undefined) throw new Error(`no code ${name}`);
  return c;
};

describe('Kafka error classification', () => {
  it.each([
    'ERR__MSG_TIMED_OUT',
    'ERR__TRANSPORT',
    'ERR__QUEUE_FULL',
    'ERR_NOT_LEADER_FOR_PARTITION',
    'ERR__ALL_BROKERS_DOWN',
  ])('%s is retriable', (name) => expect(isRetriableKafkaCode(code(name))).toBe(true));

  it.each(['ERR_MSG_SIZE_TOO_LARGE', 'ERR_TOPIC_AUTHORIZATION_FAILED', 'ERR__AUTHENTICATION', 'ERR__FATAL'])(
    '%s is permanent',
    (name) => expect(isRetriableKafkaCode(code(name))).toBe(false),
  );

  it('names codes the librdkafka way', () => {
    expect(kafkaErrorName(code('ERR__MSG_TIMED_OUT'))).toBe('ERR__MSG_TIMED_OUT');
  });

  it('wraps a client error in a ProduceError with code, name and classification', () => {
    const err = new KafkaJS.KafkaJSError('Broker: Message size too large', { code: code('ERR_MSG_SIZE_TOO_LARGE') });
    const wrapped = toProduceError(err, 'produce failed');
    expect(wrapped).toBeInstanceOf(ProduceError);
    expect(wrapped.retriable).toBe(false);
    expect((wrapped as ProduceError).kafkaName).toBe('ERR_MSG_SIZE_TOO_LARGE');
    expect(wrapped.message).toMatch(/^produce failed: ERR_MSG_SIZE_TOO_LARGE: /);
    expect(wrapped.cause).toBe(err);
  });

  it("falls back to the client's own retriable flag for unlisted codes, and keeps our errors as they are", () => {
    const unlisted = new KafkaJS.KafkaJSError('odd', { code: 12345, retriable: false });
    expect(toProduceError(unlisted, 'x').retriable).toBe(false);
    const ours = new ConfigError('kafka.brokers', 'bad');
    expect(toProduceError(ours, 'x')).toBe(ours);
  });
});
