// Jaeger goes away while spans keep coming: the forwarder pauses, backs off (a bounded number of sink
// attempts, not a spin), keeps memory bounded, and once Jaeger is back delivers everything, with nothing
// dead-lettered. Each test runs its own Jaeger on Badger storage, which keeps data across restarts.
import { jaegerKilledMidRequests, jaegerOutageUnderLoad } from './fault-scenarios';

jest.setTimeout(240_000);

describe('forwarder: Jaeger outage', () => {
  it('pauses for a 30 s outage under load, stays bounded, and then delivers everything', async () => {
    const r = await jaegerOutageUnderLoad();
    expect(r.lost).toBe(0);
  });

  it('loses nothing when Jaeger is killed with -9 in the middle of requests', async () => {
    const r = await jaegerKilledMidRequests();
    expect(r.lost).toBe(0);
  });
});
