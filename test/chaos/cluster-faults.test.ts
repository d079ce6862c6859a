// `npm run chaos`: every cluster fault scenario (test/integration/cluster/scenarios.ts) N times.
import { chaosScenarios } from './chaos';
import { clusterPerFile } from '../integration/cluster/cluster';
import {
  brokerKillUnderForwarderLoad,
  isrBelowMinimum,
  leaderKillUnderExportLoad,
  rollingRestart,
} from '../integration/cluster/scenarios';

clusterPerFile();

chaosScenarios(
  [
    ['cluster: leader SIGKILL under export load', leaderKillUnderExportLoad],
    ['cluster: broker SIGKILL under forwarder load', brokerKillUnderForwarderLoad],
    ['cluster: rolling restart of 3 brokers under both loads', rollingRestart],
    ['cluster: ISR below min.insync.replicas (exports FAILED, dead letters block)', isrBelowMinimum],
  ],
  240_000,
);
