// `replay`: re-send a time range of the spans topic to the sink (e.g. after Jaeger lost data), without
// moving the live group's offsets. Progress goes to stderr so stdout carries only the summary.
import { KafkaToJaegerForwarder } from '../forwarder/kafka-to-jaeger-forwarder';
import type { ReplayProgress } from '../forwarder/replay';
import { FORWARDER_OPTIONS, FORWARDER_OPTIONS_HELP, UsageError, buildConfig, parseCommand, timeFlag } from './args';
import { jsonLogger, printJson } from './output';

/** Help of `replay`. */
export const REPLAY_HELP = `Usage: otel-kafka-jaeger replay --from <time> [--to <time>] [options]

Re-sends the records of the spans topic from --from (inclusive) to --to (exclusive, default: the end
now) to the sink, with the forwarder's batching, retries and dead-lettering. Joins no consumer group
and commits nothing. Times: ISO 8601 (2024-05-01T12:00:00Z) or milliseconds since the epoch.
Progress on stderr (a bar on a terminal, JSON lines otherwise); the summary as JSON on stdout.

Options:
  --from <time>         first record time (required)
  --to <time>           end of the range
${FORWARDER_OPTIONS_HELP}
  -h, --help            this help`;

const PROGRESS_INTERVAL_MILLIS = 1_000;

/** Runs `replay`; returns the exit code. */
export async function replayCommand(argv: string[]): Promise<number> {
  const { flags } = parseCommand(argv, { ...FORWARDER_OPTIONS, from: { type: 'string' }, to: { type: 'string' } });
  if (flags.help) {
    process.stdout.write(`${REPLAY_HELP}\n`);
    return 0;
  }
  const from = timeFlag(flags, 'from');
  if (from === undefined) throw new UsageError('--from is required (ISO 8601 time or milliseconds since the epoch)');
  const to = timeFlag(flags, 'to');
  if (to !== undefined && to < from) throw new UsageError('--to must not be before --from');

  // Only warnings and errors: info lines would interleave with the progress on stderr.
  const forwarder = new KafkaToJaegerForwarder(buildConfig(flags, jsonLogger(process.stderr, 'warn')));
  const abort = new AbortController();
  const onSignal = (): void => abort.abort(new Error('replay interrupted by a signal'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const progress = progressReporter(process.stderr);
  try {
    const result = await forwarder.replay({ from, to, onProgress: progress.update, signal: abort.signal });
    progress.finish();
    printJson({
      topic: forwarder.topic,
      from: new Date(from).toISOString(),
      to: to === undefined ? null : new Date(to).toISOString(),
      records: result.records,
      spans: result.spans,
      bytes: result.bytes,
      undeliverable: result.undeliverable,
      partitions: result.partitions,
      durationMillis: result.durationMillis,
      ranges: result.ranges,
    });
    return 0;
  } finally {
    progress.finish();
    await forwarder.stop();
  }
}

/** A bar redrawn in place on a terminal; otherwise a JSON line at most once a second (and the last one). */
function progressReporter(stream: NodeJS.WriteStream): { update: (p: ReplayProgress) => void; finish: () => void } {
  let last: ReplayProgress | undefined;
  let lastWritten = 0;
  let pending = false;
  const write = (p: ReplayProgress): void => {
    lastWritten = Date.now();
    pending = false;
    if (stream.isTTY) {
      const width = 30;
      const filled = p.partitions === 0 ? width : Math.round((p.partitionsDone / p.partitions) * width);
      stream.write(
        `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.partitionsDone}/${p.partitions} partitions ` +
          `${p.records} records ${p.spans} spans ${p.undeliverable} undeliverable`,
      );
    } else {
      printJson({ time: new Date().toISOString(), level: 'info', msg: 'replay progress', ...p }, stream);
    }
  };
  let finished = false;
  return {
    update: (p) => {
      last = p;
      pending = true;
      if (Date.now() - lastWritten >= PROGRESS_INTERVAL_MILLIS) write(p);
    },
    finish: () => {
      if (finished) return;
      finished = true;
      if (pending && last) write(last);
      if (stream.isTTY && last) stream.write('\n');
    },
  };
}
