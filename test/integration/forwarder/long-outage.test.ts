// Group membership kept through a Jaeger outage longer than session.timeout.ms (6 s) and
// max.poll.interval.ms (10 s): the CI length. test/chaos/long-outage.test.ts runs a long one.
import { longOutageScenario, MAX_POLL_INTERVAL_MILLIS } from './long-outage';

jest.setTimeout(180_000);

describe('forwarder: Jaeger outage longer than the group timeouts', () => {
  it('keeps its membership and assignment (no rebalance) and then delivers everything', async () => {
    await longOutageScenario(MAX_POLL_INTERVAL_MILLIS + 4_000);
  });
});
