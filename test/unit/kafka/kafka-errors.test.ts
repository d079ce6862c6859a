import { KafkaJS } from '@confluentinc/kafka-javascript';

import { ConfigError, ProduceError } from '../../../src/errors/errors';
import {
  isMessageTooLargeCode,
  isRetriableKafkaCode,
  kafkaErrorName,
  permanentProduceRemedy,
  toProduceError,
} from '../../../src/kafka/kafka-errors';

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

describe('permanent produce errors', () => {
  it.each([
    ['ERR__AUTHENTICATION', /kafka\.sasl/],
    ['ERR_SASL_AUTHENTICATION_FAILED', /kafka\.sasl/],
    ['ERR_UNSUPPORTED_SASL_MECHANISM', /mechanism/],
    ['ERR__SSL', /kafka\.ssl/],
    ['ERR_TOPIC_AUTHORIZATION_FAILED', /WRITE .*topic t\.dlq/],
    ['ERR_CLUSTER_AUTHORIZATION_FAILED', /IDEMPOTENT_WRITE/],
    ['ERR_MSG_SIZE_TOO_LARGE', /t\.dlq's max\.message\.bytes/],
    ['ERR_RECORD_LIST_TOO_LARGE', /max\.message\.bytes/],
    ['ERR__INVALID_ARG', /kafka\.rdkafka/],
    ['ERR_INVALID_CONFIG', /kafka\.rdkafka/],
  ])('%s is permanent and has a remedy', (name, remedy) => {
    expect(isRetriableKafkaCode(code(name))).toBe(false);
    expect(permanentProduceRemedy(code(name), 't.dlq')).toMatch(remedy);
  });

  it('has a generic remedy for other codes', () => {
    expect(permanentProduceRemedy(code('ERR_POLICY_VIOLATION'), 't')).toMatch(/policy/);
    expect(permanentProduceRemedy(undefined, 't')).toMatch(/fix the cause/);
  });

  it('knows which codes say a message is too large', () => {
    expect(isMessageTooLargeCode(code('ERR_MSG_SIZE_TOO_LARGE'))).toBe(true);
    expect(isMessageTooLargeCode(code('ERR_RECORD_LIST_TOO_LARGE'))).toBe(true);
    expect(isMessageTooLargeCode(code('ERR__TRANSPORT'))).toBe(false);
    expect(isMessageTooLargeCode(undefined)).toBe(false);
  });
});
