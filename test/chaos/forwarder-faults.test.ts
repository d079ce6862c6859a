// `npm run chaos`: every single-broker forwarder fault scenario (test/integration/forwarder/fault-scenarios.ts)
// N times.
import { chaosScenarios } from './chaos';
import {
  brokerKilledMidBacklog,
  forwarderKilledMidBacklog,
  jaegerKilledMidRequests,
  jaegerOutageUnderLoad,
  memberDiesMidBacklog,
  memberJoinsAndLeaves,
} from '../integration/forwarder/fault-scenarios';
import { sharedKafka } from '../integration/harness/stack';

afterAll(async () => {
  await sharedKafka().start();
});

chaosScenarios(
  [
    ['Jaeger stopped 30 s under forwarder load (buffer bounded)', jaegerOutageUnderLoad],
    ['Jaeger SIGKILL mid-request', jaegerKilledMidRequests],
    ['Kafka broker SIGKILL mid-backlog, restarted', brokerKilledMidBacklog],
    ['forwarder process SIGKILL mid-backlog, restarted', forwarderKilledMidBacklog],
    ['group member joins, another leaves, under load', memberJoinsAndLeaves],
    ['group member SIGKILL mid-backlog, survivor takes over', memberDiesMidBacklog],
  ],
  240_000,
);
