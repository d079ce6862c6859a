// `npm run chaos`: the long variant of test/integration/forwarder/long-outage.test.ts, N times: Jaeger down for
// 60 s, six times max.poll.interval.ms (10 s) and ten times session.timeout.ms (6 s).
import { chaosScenarios } from './chaos';
import { longOutageScenario } from '../integration/forwarder/long-outage';

chaosScenarios([['Jaeger stopped 60 s (membership kept, no rebalance)', () => longOutageScenario(60_000)]], 240_000);
