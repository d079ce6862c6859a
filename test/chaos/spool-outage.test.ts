// `npm run chaos`: the long variant of the first test of test/integration/exporter/spool.test.ts, as issue 16
// states it, N times: Kafka stopped for 2 minutes under export load, restarted; every span exported meanwhile
// reaches Jaeger.
import { chaosScenarios } from './chaos';
import { spoolOutageScenario } from '../integration/exporter/spool-scenario';

chaosScenarios([['Kafka stopped 2 min behind a spooling exporter', () => spoolOutageScenario(120_000)]], 300_000);
