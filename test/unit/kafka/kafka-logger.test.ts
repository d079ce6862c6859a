import { RepeatLimiter, kafkaLogger } from '../../../src/kafka/kafka-logger';

describe('kafkaLogger', () => {
  it('logs a repeated client warning once per window, then with the count it held back', () => {
    let now = 0;
    const warnings: [string, Record<string, unknown> | undefined][] = [];
    const logger = {
      debug: () => {},
      info: () => {},
      error: () => {},
      warn: (m: string, a?: Record<string, unknown>) => warnings.push([m, a]),
    };
    const log = kafkaLogger(logger, 'kafka.consumer', new RepeatLimiter(30_000, () => now));

    for (let i = 0; i < 100; i++) log.error('all broker connections are down');
    log.warn('something else');
    now = 30_000;
    log.error('all broker connections are down');

    expect(warnings).toEqual([
      ['all broker connections are down', { component: 'kafka.consumer' }],
      ['something else', { component: 'kafka.consumer' }],
      ['all broker connections are down', { component: 'kafka.consumer', repeatsSuppressed: 99 }],
    ]);
  });

  it('shares the limit across namespaces of one client', () => {
    const warnings: string[] = [];
    const logger = { debug: () => {}, info: () => {}, error: () => {}, warn: (m: string) => warnings.push(m) };
    const log = kafkaLogger(logger);
    log.warn('down');
    log.namespace('consumer').warn('down');
    expect(warnings).toEqual(['down']);
  });
});
