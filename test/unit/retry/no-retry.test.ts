import { SinkError } from '../../../src/errors/errors';
import { noRetry } from '../../../src/retry/no-retry';

describe('noRetry', () => {
  it('never retries, whatever the error', () => {
    const policy = noRetry();
    expect(policy.nextDelay(1, new Error('connection refused'))).toEqual({ retry: false });
    expect(policy.nextDelay(1, new SinkError('HTTP 503', { retriable: true, retryAfterMillis: 10 }))).toEqual({
      retry: false,
    });
    expect(policy.nextDelay(1, 'not even an error')).toEqual({ retry: false });
  });
});
