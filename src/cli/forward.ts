// `forward`: the standalone forwarder process. Stops cleanly on SIGTERM/SIGINT (drain, commit what Jaeger
// accepted, leave the group) so a rolling restart neither loses nor re-sends more than it must.
import { KafkaToJaegerForwarder } from '../forwarder/kafka-to-jaeger-forwarder';
import { FORWARDER_OPTIONS, FORWARDER_OPTIONS_HELP, buildConfig, parseCommand } from './args';
import { jsonLogger } from './output';

/** Help of `forward`. */
export const FORWARD_HELP = `Usage: otel-kafka-jaeger forward [options]

Runs the Kafka-to-Jaeger forwarder until SIGTERM or SIGINT, then drains, commits and exits 0.
Logs are JSON lines on stdout: {"time","level","msg",...}. Config: --config file, then flags, then the
environment variables, then the defaults.

Options:
${FORWARDER_OPTIONS_HELP}
  --debug               also log debug lines
  -h, --help            this help`;

/** Runs `forward`; resolves with the exit code once the forwarder has stopped. */
export async function forwardCommand(argv: string[]): Promise<number> {
  const { flags } = parseCommand(argv, { ...FORWARDER_OPTIONS, debug: { type: 'boolean' } });
  if (flags.help) {
    process.stdout.write(`${FORWARD_HELP}\n`);
    return 0;
  }
  const logger = jsonLogger(process.stdout, flags.debug ? 'debug' : 'info');
  const forwarder = new KafkaToJaegerForwarder(buildConfig(flags, logger));

  let signalled: (signal: NodeJS.Signals) => void = () => undefined;
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => (signalled = resolve));
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    // A second signal means the operator will not wait for the drain.
    if (++signals > 1) {
      logger.warn('second signal: exiting without waiting for the drain', { signal });
      process.exit(1);
    }
    signalled(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    await forwarder.start();
  } catch (err) {
    await forwarder.stop().catch(() => undefined);
    throw err;
  }
  logger.info('forwarding', {
    pid: process.pid,
    topic: forwarder.topic,
    group: forwarder.health().groupId,
    sink: forwarder.health().sink,
    deadLetterTopic: forwarder.deadLetterTopic,
  });
  const signal = await stopRequested;
  logger.info('stopping', { signal });
  await forwarder.stop();
  logger.info('stopped', { signal });
  return 0;
}
