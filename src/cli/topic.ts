// `topic create`: the spans topic with the settings the exporter and forwarder expect to be tuned.
import { resolveKafkaConfig } from '../config/kafka';
import {
  ADMIN_OPTIONS,
  ADMIN_OPTIONS_HELP,
  buildConfig,
  choiceFlag,
  integerFlag,
  parseCommand,
  positiveNumberFlag,
  timeoutFlag,
} from './args';
import { UsageError } from './args';
import { DEFAULT_TIMEOUT_MILLIS, withAdmin } from './kafka-clients';
import { printJson } from './output';

/** Help of `topic`. */
export const TOPIC_HELP = `Usage: otel-kafka-jaeger topic create <name> [options]

Creates a topic for spans (or their dead letters).

Options:
  --partitions <n>          partitions (default 3)
  --replication-factor <n>  replicas (default: the broker's default.replication.factor)
  --retention-hours <h>     retention.ms = h hours (default: the broker's)
  --compression <codec>     compression.type: none, gzip, snappy, lz4, zstd or producer (default: the broker's)
  --max-message-bytes <b>   max.message.bytes (default: the broker's); keep exporter.maxMessageBytes at or below it
${ADMIN_OPTIONS_HELP}
  -h, --help                this help

Exit codes: 0 created, 1 already exists or failed, 2 bad arguments.`;

const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd', 'producer'] as const;

/** Runs `topic <subcommand>`; returns the exit code. */
export async function topicCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseCommand(
    argv,
    {
      ...ADMIN_OPTIONS,
      partitions: { type: 'string' },
      'replication-factor': { type: 'string' },
      'retention-hours': { type: 'string' },
      compression: { type: 'string' },
      'max-message-bytes': { type: 'string' },
    },
    2,
  );
  if (flags.help) {
    process.stdout.write(`${TOPIC_HELP}\n`);
    return 0;
  }
  const [sub, name] = positionals;
  if (sub !== 'create') {
    throw new UsageError(sub === undefined ? 'missing subcommand: create' : `unknown subcommand 'topic ${sub}'`);
  }
  if (name === undefined) throw new UsageError('topic create: missing <name>');
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(name) || name === '.' || name === '..') {
    throw new UsageError(`topic create: '${name}' is not a valid topic name (1-249 of [a-zA-Z0-9._-])`);
  }
  const partitions = integerFlag(flags, 'partitions', 1, 100_000) ?? 3;
  const replicationFactor = integerFlag(flags, 'replication-factor', 1, 1_000) ?? -1;
  const retentionHours = positiveNumberFlag(flags, 'retention-hours');
  const compression = choiceFlag(flags, 'compression', COMPRESSIONS);
  const maxMessageBytes = integerFlag(flags, 'max-message-bytes', 1, 2 ** 31 - 1);
  const timeoutMillis = timeoutFlag(flags, DEFAULT_TIMEOUT_MILLIS);
  const kafka = resolveKafkaConfig(buildConfig(flags));

  const configEntries = [
    ...(retentionHours === undefined
      ? []
      : [{ name: 'retention.ms', value: String(Math.round(retentionHours * 3_600_000)) }]),
    ...(compression === undefined ? [] : [{ name: 'compression.type', value: compression }]),
    ...(maxMessageBytes === undefined ? [] : [{ name: 'max.message.bytes', value: String(maxMessageBytes) }]),
  ];
  const created = await withAdmin(kafka, `create topic '${name}'`, timeoutMillis, (admin) =>
    admin.createTopics({
      topics: [{ topic: name, numPartitions: partitions, replicationFactor, configEntries }],
      timeout: timeoutMillis,
    }),
  );
  if (!created) {
    process.stderr.write(`topic '${name}' already exists; nothing changed\n`);
    return 1;
  }
  printJson({
    created: name,
    partitions,
    config: Object.fromEntries(configEntries.map((e) => [e.name, e.value])),
  });
  return 0;
}
