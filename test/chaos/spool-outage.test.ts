// The long variant of the first test of test/integration/exporter/spool.test.ts, as issue 16 states it:
// Kafka stopped for 2 minutes under export load, restarted; every span exported meanwhile reaches Jaeger.
import { spoolOutageScenario } from '../integration/exporter/spool-scenario';

jest.setTimeout(360_000);

describe('chaos: Kafka down for 2 minutes behind a spooling exporter', () => {
  it('every span exported during the outage reaches Jaeger through the forwarder', async () => {
    await spoolOutageScenario(120_000);
  });
});
