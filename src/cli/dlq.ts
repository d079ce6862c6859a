// `dlq count|peek|redrive`: inspect and re-drive the forwarder's dead-letter topic. Reading uses a consumer
// that joins no group and commits nothing, so looking at dead letters never changes anyone's offsets.
import type { Message, MessageHeader } from '@confluentinc/kafka-javascript';

import { ENV } from '../config/env';
import { boundedText } from '../errors/bounded-text';
import { resolveKafkaConfig } from '../config/kafka';
import type { OtelKafkaJaegerConfig } from '../config/types';
import { DEAD_LETTER_HEADERS } from '../forwarder/dead-letter';
import {
  ADMIN_OPTIONS,
  ADMIN_OPTIONS_HELP,
  UsageError,
  buildConfig,
  integerFlag,
  parseCommand,
  stringFlag,
  timeoutFlag,
} from './args';
import {
  DEFAULT_TIMEOUT_MILLIS,
  connectedRedriveProducer,
  partitionBounds,
  readTopic,
  withAdmin,
} from './kafka-clients';
import { printJson } from './output';

/** Help of `dlq`. */
export const DLQ_HELP = `Usage: otel-kafka-jaeger dlq count|peek|redrive [options]

  count     records in the dead-letter topic (end minus start offsets)
  peek      the first --limit dead letters as JSON lines: key, provenance headers, error, value size
  redrive   re-produce dead letters (original key, value and headers, minus the okj.* provenance headers)
            to their source topic (header ${DEAD_LETTER_HEADERS.sourceTopic}) or --to-topic, with acks=all.
            The dead-letter topic is left as it is: Kafka cannot delete single records.

Options:
  --topic <name>        the dead-letter topic (default: forwarder.deadLetter.topic, env
                        ${ENV.forwarderDeadLetterTopic}, else <kafka.topic>.dlq)
  --limit <n>           at most n records (peek: default 10; redrive: default all)
  --to-topic <name>     redrive: send everything here instead of each record's source topic
${ADMIN_OPTIONS_HELP}
  -h, --help            this help`;

const PROVENANCE_PREFIX = 'okj.';
/** Anyone who can write to the dead-letter topic controls its records: what peek shows of them is capped. */
const MAX_SHOWN_CHARS = 1_000;
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Runs `dlq <subcommand>`; returns the exit code. */
export async function dlqCommand(argv: string[]): Promise<number> {
  const { flags, positionals } = parseCommand(
    argv,
    { ...ADMIN_OPTIONS, topic: { type: 'string' }, limit: { type: 'string' }, 'to-topic': { type: 'string' } },
    1,
  );
  if (flags.help) {
    process.stdout.write(`${DLQ_HELP}\n`);
    return 0;
  }
  const [sub] = positionals;
  if (sub !== 'count' && sub !== 'peek' && sub !== 'redrive') {
    throw new UsageError(
      sub === undefined ? 'missing subcommand: count, peek or redrive' : `unknown subcommand 'dlq ${sub}'`,
    );
  }
  const limit = integerFlag(flags, 'limit', 1);
  const toTopic = stringFlag(flags, 'to-topic');
  if (toTopic !== undefined && sub !== 'redrive') throw new UsageError('--to-topic applies to redrive only');
  if (toTopic !== undefined && !TOPIC_NAME.test(toTopic)) {
    throw new UsageError('--to-topic: not a valid topic name (1-249 of [a-zA-Z0-9._-])');
  }
  const timeoutMillis = timeoutFlag(flags, DEFAULT_TIMEOUT_MILLIS);
  const config = buildConfig(flags);
  const kafka = resolveKafkaConfig(config);
  const topic = stringFlag(flags, 'topic') ?? deadLetterTopicOf(config, kafka.topic);
  const bounds = await withAdmin(kafka, `read the offsets of topic '${topic}'`, timeoutMillis, (admin) =>
    partitionBounds(admin, topic, timeoutMillis),
  );

  if (sub === 'count') {
    const partitions = bounds.map((b) => ({ partition: b.partition, count: b.high - b.low }));
    printJson({ topic, count: partitions.reduce((n, p) => n + p.count, 0), partitions });
    return 0;
  }
  if (sub === 'peek') {
    await readTopic(kafka, topic, bounds, limit ?? 10, (m) => printJson(describeDeadLetter(m)));
    return 0;
  }

  const producer = await connectedRedriveProducer(kafka);
  const counts = new Map<string, number>();
  let skipped = 0;
  try {
    await readTopic(kafka, topic, bounds, limit ?? Number.MAX_SAFE_INTEGER, async (m) => {
      const headers = headersOf(m.headers);
      const target = toTopic ?? firstString(headers[DEAD_LETTER_HEADERS.sourceTopic]);
      if (target === undefined || !TOPIC_NAME.test(target)) {
        skipped++;
        process.stderr.write(
          `skipped partition ${m.partition} offset ${m.offset}: ${target === undefined ? 'no' : 'an invalid'} ` +
            `${DEAD_LETTER_HEADERS.sourceTopic} header (use --to-topic)\n`,
        );
        return;
      }
      const original = Object.fromEntries(Object.entries(headers).filter(([k]) => !k.startsWith(PROVENANCE_PREFIX)));
      // One record at a time, awaited: the order of a partition's dead letters is kept, and a failure stops
      // the redrive at a known point (everything printed as redriven was acknowledged by all replicas).
      await producer.send({
        topic: target,
        messages: [{ key: m.key ?? null, value: m.value ?? null, headers: original }],
      });
      counts.set(target, (counts.get(target) ?? 0) + 1);
    });
  } finally {
    await producer.disconnect();
  }
  const redriven = [...counts.values()].reduce((n, c) => n + c, 0);
  printJson({ topic, redriven, skipped, toTopics: Object.fromEntries(counts) });
  return 0;
}

function deadLetterTopicOf(config: OtelKafkaJaegerConfig, topic: string): string {
  return config.forwarder?.deadLetter?.topic ?? process.env[ENV.forwarderDeadLetterTopic] ?? `${topic}.dlq`;
}

/** Headers of a record, repeated names kept as arrays (Kafka allows them; a redrive must not lose them). */
function headersOf(list: MessageHeader[] | undefined): Record<string, Buffer | Buffer[]> {
  const out: Record<string, Buffer | Buffer[]> = {};
  for (const h of list ?? []) {
    for (const [k, raw] of Object.entries(h)) {
      const v = Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw));
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
  }
  return out;
}

function firstString(v: Buffer | Buffer[] | undefined): string | undefined {
  const b = Array.isArray(v) ? v[0] : v;
  return b === undefined ? undefined : b.toString('utf8');
}

function describeDeadLetter(m: Message): Record<string, unknown> {
  const headers = headersOf(m.headers);
  const provenance: Record<string, string> = {};
  for (const name of Object.values(DEAD_LETTER_HEADERS)) {
    const v = firstString(headers[name]);
    if (v !== undefined) provenance[name] = boundedText(v, MAX_SHOWN_CHARS);
  }
  return {
    partition: m.partition,
    offset: m.offset,
    key:
      m.key === undefined || m.key === null ? null : boundedText(Buffer.from(m.key).toString('utf8'), MAX_SHOWN_CHARS),
    headers: provenance,
    error: provenance[DEAD_LETTER_HEADERS.errorMessage] ?? null,
    valueBytes: m.value?.length ?? 0,
  };
}
