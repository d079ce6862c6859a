// Entry point of the `otel-kafka-jaeger` command: dispatch to one subcommand, map errors to exit codes
// (2: the command line or config is wrong, 1: it failed at run time).
import { boundedText } from '../errors/bounded-text';
import { OtelKafkaJaegerError } from '../errors/errors';
import { VERSION } from '../version';
import { UsageError } from './args';
import { dlqCommand } from './dlq';
import { forwardCommand } from './forward';
import { lagCommand } from './lag';
import { replayCommand } from './replay';
import { topicCommand } from './topic';

const USAGE = `Usage: otel-kafka-jaeger <command> [options]

Commands:
  forward                        run the Kafka-to-Jaeger forwarder until SIGTERM/SIGINT
  replay --from <time>           re-send a time range of the spans topic to the sink
  topic create <name>            create a spans (or dead-letter) topic
  lag [--group <id>]             committed offset, end offset and lag per partition
  dlq count|peek|redrive         inspect or re-drive the dead-letter topic

Run 'otel-kafka-jaeger <command> --help' for a command's options.
Options: -h, --help   this help;  -v, --version   the version`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  forward: forwardCommand,
  replay: replayCommand,
  topic: topicCommand,
  lag: lagCommand,
  dlq: dlqCommand,
};

/** Runs the CLI on `argv` (without node and the script); resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const run = COMMANDS[command];
  // Messages may quote what the user typed, a broker's or a record's text: one capped line, no control bytes.
  const say = (text: string): boolean => process.stderr.write(`${boundedText(text).replace(/\n/g, '\\n')}\n`);
  try {
    if (!run) throw new UsageError(`unknown command '${command}'`);
    return await run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      say(`otel-kafka-jaeger: ${err.message}`);
      process.stderr.write(`Run 'otel-kafka-jaeger ${run ? `${command} ` : ''}--help' for usage.\n`);
      return err.exitCode;
    }
    // The library rejects bad config values before any I/O; that is the user's input too.
    if (err instanceof OtelKafkaJaegerError && err.code === 'CONFIG_INVALID') {
      say(`otel-kafka-jaeger: ${err.message}`);
      return 2;
    }
    say(`otel-kafka-jaeger ${command}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

// librdkafka keeps handles (and the forwarder's timers) alive; once a command is done the process exits.
void main(process.argv.slice(2)).then((code) => process.exit(code));
