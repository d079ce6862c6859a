// The long variant of test/integration/forwarder/long-outage.test.ts: Jaeger down for 60 s, six times
// max.poll.interval.ms (10 s) and ten times session.timeout.ms (6 s).
import { longOutageScenario } from '../integration/forwarder/long-outage';

jest.setTimeout(300_000);

describe('chaos: a 60 s Jaeger outage', () => {
  it('keeps the group membership and assignment throughout, then delivers everything', async () => {
    await longOutageScenario(60_000);
  });
});
