// `lag`: how far a forwarder group is behind, per partition, from the group's committed offsets.
import { ENV } from '../config/env';
import { DEFAULTS } from '../config/defaults';
import { resolveKafkaConfig } from '../config/kafka';
import { ADMIN_OPTIONS, ADMIN_OPTIONS_HELP, buildConfig, parseCommand, stringFlag, timeoutFlag } from './args';
import { consumerRdKafkaConfig } from '../kafka/client-config';
import { readCommittedOffsets } from '../kafka/committed-offsets';
import { DEFAULT_TIMEOUT_MILLIS, partitionBounds, withAdmin } from './kafka-clients';
import { printJson } from './output';

/** Help of `lag`. */
export const LAG_HELP = `Usage: otel-kafka-jaeger lag [--group <id>] [--topic <name>] [--json] [options]

Per partition: the group's committed offset, the end offset, and the lag between them. A partition
without a committed offset counts from its start offset (the forwarder starts from the earliest).

Options:
  --group <id>          consumer group (env ${ENV.forwarderGroupId}, default ${DEFAULTS.forwarder.groupId})
  --topic <name>        topic (env ${ENV.topic}, default ${DEFAULTS.topic})
  --json                one JSON object instead of a table
${ADMIN_OPTIONS_HELP}
  -h, --help            this help`;

/** One partition's row. */
interface LagRow {
  partition: number;
  committed: number | null;
  end: number;
  lag: number;
}

/** Runs `lag`; returns the exit code. */
export async function lagCommand(argv: string[]): Promise<number> {
  const { flags } = parseCommand(argv, {
    ...ADMIN_OPTIONS,
    group: { type: 'string' },
    topic: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (flags.help) {
    process.stdout.write(`${LAG_HELP}\n`);
    return 0;
  }
  const timeoutMillis = timeoutFlag(flags, DEFAULT_TIMEOUT_MILLIS);
  const config = buildConfig(flags);
  const kafka = resolveKafkaConfig(config);
  const groupId =
    stringFlag(flags, 'group') ??
    config.forwarder?.groupId ??
    process.env[ENV.forwarderGroupId] ??
    DEFAULTS.forwarder.groupId;
  const topic = kafka.topic;

  const what = `read the lag of group '${groupId}' on topic '${topic}'`;
  const rows = await withAdmin(kafka, what, timeoutMillis, async (admin): Promise<LagRow[]> => {
    const bounds = await partitionBounds(admin, topic, timeoutMillis);
    const committed = await readCommittedOffsets(consumerRdKafkaConfig(kafka), groupId, topic, timeoutMillis);
    return bounds.map((b) => {
      const c = committed.get(b.partition) ?? -1;
      return {
        partition: b.partition,
        committed: c >= 0 ? c : null,
        end: b.high,
        lag: Math.max(0, b.high - (c >= 0 ? Math.max(c, b.low) : b.low)),
      };
    });
  });
  const total = rows.reduce((n, r) => n + r.lag, 0);
  if (flags.json) {
    printJson({ group: groupId, topic, lag: total, partitions: rows });
    return 0;
  }
  const table = [
    ['PARTITION', 'COMMITTED', 'END', 'LAG'],
    ...rows.map((r) => [
      String(r.partition),
      r.committed === null ? '-' : String(r.committed),
      String(r.end),
      String(r.lag),
    ]),
    ['total', '', '', String(total)],
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  process.stdout.write(`group ${groupId}, topic ${topic}\n`);
  for (const row of table) process.stdout.write(`${row.map((cell, i) => cell.padStart(widths[i]!)).join('  ')}\n`);
  return 0;
}
