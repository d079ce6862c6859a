// `npm run bench:exporter`: spans/s and CPU per span in the traced process, exporters side by side.
//
// Every contender runs in its own fresh process (contender.ts) through the same BatchSpanProcessor, one after
// the other, interleaved over rounds. Only spans whose export called back SUCCESS count. This process hosts
// what the contenders write to that is not Kafka (the OTLP/HTTP server), so that CPU is not billed to them,
// and checks afterwards that every sink holds what the contender says it delivered.
//
// Options (argument `--name=value`, or the environment variable in brackets):
//   --spans=200000       [BENCH_SPANS]         measured spans per contender per round
//   --warmup=20000       [BENCH_WARMUP]        warm-up spans per run, not measured
//   --rounds=3           [BENCH_ROUNDS]
//   --only=a,b           [BENCH_ONLY]          contender ids (see CONTENDERS); default: all
//   --no-extras          [BENCH_EXTRAS=0]      skip the KafkaSpanExporter option variants
//   --no-readback        [BENCH_READBACK=0]    skip reading the Kafka topic back after each Kafka run
//   --cpu-prof=<dir>     [BENCH_CPU_PROF]      write a V8 CPU profile of every contender run into <dir>
//   --timeout=300000     [BENCH_RUN_TIMEOUT_MS] bound on one contender run, milliseconds
//   --broker=shared      [BENCH_BROKER]        `shared`: the stack's broker (npm run stack:up); `dedicated`: a
//                                              private broker on free ports for this run, deleted afterwards
//                                              (use it while integration tests restart the shared one)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

import { KafkaJS } from '@confluentinc/kafka-javascript';

import { freePorts, KafkaBroker, stackEndpoints, stackUp } from '../../scripts/stack/stack';
import type { Compression } from '../../src/config/types';
import { countSpans } from '../../src/serializers/otlp/wire-walk';
import { RESULT_PREFIX, START_LINE } from './protocol';
import type { ContenderKind, ContenderResult, ContenderSpec } from './protocol';

const REPO_ROOT = resolve(__dirname, '..', '..');
const CONTENDER_FILE = join(__dirname, 'contender.ts');
const PARTITIONS = 4;
const READBACK_TIMEOUT_MILLIS = 120_000;

interface ContenderDef {
  id: string;
  label: string;
  kind: ContenderKind;
  /** A KafkaSpanExporter option variant, compared with (c). */
  extra?: boolean;
  lingerMillis?: number;
  compression?: Compression;
  partitionByTraceId?: boolean;
  messagePer?: 'partition' | 'trace' | 'batch';
  encoder?: 'fast' | 'otlp-transformer';
  /** Spans per trace, for this contender and the OTLP/HTTP contender it is compared with. */
  spansPerTrace?: number;
  /** The contender this one's ratios are paired with (default: (c) for Kafka variants). */
  versus?: string;
  rdkafka?: Record<string, string | number | boolean>;
  /** The durable spool on (Kafka stays healthy: what having it costs). */
  spool?: boolean;
}

const CONTENDERS: ContenderDef[] = [
  { id: 'noop', label: '(a) no-op exporter', kind: 'noop' },
  { id: 'serializer', label: '(b) ProtobufTraceSerializer (otlp-transformer) only', kind: 'serializer' },
  { id: 'serializer-fast', label: "(b') this package's encoder only", kind: 'serializer', encoder: 'fast' },
  { id: 'kafka', label: "(c) KafkaSpanExporter, defaults (messagePer 'partition')", kind: 'kafka' },
  { id: 'otlp-http', label: '(d) OTLPTraceExporter (proto) → local HTTP server', kind: 'otlp-http' },
  {
    id: 'kafka-trace',
    label: "(c) messagePer: 'trace' (one message per trace)",
    kind: 'kafka',
    extra: true,
    messagePer: 'trace',
    versus: 'otlp-http',
  },
  {
    id: 'kafka-nagle',
    label: "(c) with Nagle's algorithm (socket.nagle.disable: false)",
    kind: 'kafka',
    extra: true,
    rdkafka: { 'socket.nagle.disable': false },
  },
  {
    id: 'kafka-1span',
    label: '(c) traces of 1 span',
    kind: 'kafka',
    extra: true,
    spansPerTrace: 1,
    versus: 'otlp-http-1span',
  },
  { id: 'otlp-http-1span', label: '(d) traces of 1 span', kind: 'otlp-http', extra: true, spansPerTrace: 1 },
  {
    id: 'kafka-trace-1span',
    label: "(c) messagePer: 'trace', traces of 1 span",
    kind: 'kafka',
    extra: true,
    messagePer: 'trace',
    spansPerTrace: 1,
    versus: 'otlp-http-1span',
  },
  {
    id: 'kafka-20span',
    label: '(c) traces of 20 spans',
    kind: 'kafka',
    extra: true,
    spansPerTrace: 20,
    versus: 'otlp-http-20span',
  },
  { id: 'otlp-http-20span', label: '(d) traces of 20 spans', kind: 'otlp-http', extra: true, spansPerTrace: 20 },
  {
    id: 'kafka-trace-20span',
    label: "(c) messagePer: 'trace', traces of 20 spans",
    kind: 'kafka',
    extra: true,
    messagePer: 'trace',
    spansPerTrace: 20,
    versus: 'otlp-http-20span',
  },
  { id: 'kafka-linger1', label: '(c) lingerMillis: 1', kind: 'kafka', extra: true, lingerMillis: 1 },
  { id: 'kafka-linger5', label: '(c) lingerMillis: 5', kind: 'kafka', extra: true, lingerMillis: 5 },
  { id: 'kafka-lz4', label: "(c) compression: 'lz4'", kind: 'kafka', extra: true, compression: 'lz4' },
  { id: 'kafka-zstd', label: "(c) compression: 'zstd'", kind: 'kafka', extra: true, compression: 'zstd' },
  {
    id: 'kafka-one-message',
    label: "(c) messagePer: 'batch' (one message per export; diagnostic)",
    kind: 'kafka',
    extra: true,
    messagePer: 'batch',
  },
  {
    id: 'kafka-linger5-one-message',
    label: "(c) lingerMillis: 5 + messagePer: 'batch' (diagnostic)",
    kind: 'kafka',
    extra: true,
    lingerMillis: 5,
    messagePer: 'batch',
  },
  { id: 'kafka-spool', label: '(c) with exporter.spool on (Kafka healthy)', kind: 'kafka', extra: true, spool: true },
  {
    id: 'kafka-linger0-lz4',
    label: "(c) lingerMillis: 0 + compression: 'lz4'",
    kind: 'kafka',
    extra: true,
    lingerMillis: 0,
    compression: 'lz4',
  },
];

interface Options {
  spans: number;
  warmupSpans: number;
  rounds: number;
  only: string[] | undefined;
  extras: boolean;
  readback: boolean;
  cpuProfDir: string | undefined;
  runTimeoutMillis: number;
  broker: 'shared' | 'dedicated';
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const args = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--(no-)?([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match?.[2]) throw new Error(`unknown argument ${arg} (see the header of bench/exporter/run.ts)`);
    args.set(match[2], match[1] ? '0' : (match[3] ?? '1'));
  }
  const value = (name: string, envName: string): string | undefined => args.get(name) ?? env[envName];
  const int = (name: string, envName: string, fallback: number, min: number): number => {
    const raw = value(name, envName);
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw.replaceAll('_', ''));
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} / ${envName}: ${raw} is not an integer ≥ ${min}`);
    return n;
  };
  const flag = (name: string, envName: string): boolean => !['0', 'false', 'no'].includes(value(name, envName) ?? '1');
  const only = value('only', 'BENCH_ONLY')
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const id of only ?? []) {
    if (!CONTENDERS.some((c) => c.id === id)) {
      throw new Error(`unknown contender ${id}; known: ${CONTENDERS.map((c) => c.id).join(', ')}`);
    }
  }
  const known = new Set(['spans', 'warmup', 'rounds', 'only', 'extras', 'readback', 'cpu-prof', 'timeout', 'broker']);
  const broker = value('broker', 'BENCH_BROKER') ?? 'shared';
  if (broker !== 'shared' && broker !== 'dedicated')
    throw new Error(`--broker=${broker}: expected shared or dedicated`);
  for (const name of args.keys()) if (!known.has(name)) throw new Error(`unknown option --${name}`);
  // A multiple of every trace size a contender uses (1, 5 and 20 spans).
  const roundUp = (n: number): number => Math.ceil(n / 20) * 20;
  return {
    spans: roundUp(int('spans', 'BENCH_SPANS', 200_000, 1)),
    warmupSpans: roundUp(int('warmup', 'BENCH_WARMUP', 20_000, 0)),
    rounds: int('rounds', 'BENCH_ROUNDS', 3, 1),
    only,
    extras: flag('extras', 'BENCH_EXTRAS'),
    readback: flag('readback', 'BENCH_READBACK'),
    cpuProfDir: value('cpu-prof', 'BENCH_CPU_PROF'),
    runTimeoutMillis: int('timeout', 'BENCH_RUN_TIMEOUT_MS', 300_000, 1_000),
    broker,
  };
}

// ------------------------------------------------------------------------------------------ OTLP/HTTP sink

/** The OTLP/HTTP receiver of (d): reads each body fully, counts its spans, answers 200 with an empty body. */
interface HttpSink {
  url: string;
  spans: number;
  requests: number;
  rejected: number;
  close(): Promise<void>;
}

function startHttpSink(): Promise<HttpSink> {
  const sink = { spans: 0, requests: 0, rejected: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      sink.requests += 1;
      const encoding = req.headers['content-encoding'];
      let spans = -1;
      if (req.method === 'POST' && (encoding === undefined || encoding === 'identity')) {
        try {
          spans = countSpans(Buffer.concat(chunks));
        } catch {
          spans = -1;
        }
      }
      if (spans < 0) {
        sink.rejected += 1;
        res.writeHead(400, { 'content-length': '0' }).end();
        return;
      }
      sink.spans += spans;
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' }).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolveSink, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (!address || typeof address === 'string') {
        reject(new Error('HTTP sink has no TCP address'));
        return;
      }
      resolveSink(
        Object.assign(sink, {
          url: `http://127.0.0.1:${address.port}/v1/traces`,
          close: () =>
            new Promise<void>((done) => {
              server.closeAllConnections();
              server.close(() => done());
            }),
        }),
      );
    });
  });
}

// ------------------------------------------------------------------------------------------ Kafka helpers

function kafkaClient(brokers: string[]): KafkaJS.Kafka {
  return new KafkaJS.Kafka({ kafkaJS: { brokers, clientId: 'okj-bench', logLevel: KafkaJS.logLevel.NOTHING } });
}

async function createTopic(admin: KafkaJS.Admin, prefix: string): Promise<string> {
  const topic = `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
  return topic;
}

/** Reads the whole topic back and counts its spans; returns messages and spans. Bounded in time. */
async function readBack(
  brokers: string[],
  admin: KafkaJS.Admin,
  topic: string,
): Promise<{ messages: number; spans: number }> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const messages = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  if (messages === 0) return { messages, spans: 0 };
  const consumer = kafkaClient(brokers).consumer({
    kafkaJS: {
      groupId: `okj-bench-readback-${randomBytes(4).toString('hex')}`,
      fromBeginning: true,
      autoCommit: false,
    },
  });
  await consumer.connect();
  let read = 0;
  let spans = 0;
  try {
    await consumer.subscribe({ topics: [topic] });
    await new Promise<void>((done, fail) => {
      const timer = setTimeout(
        () =>
          fail(new Error(`read-back of ${topic}: ${read} of ${messages} messages in ${READBACK_TIMEOUT_MILLIS} ms`)),
        READBACK_TIMEOUT_MILLIS,
      );
      consumer
        .run({
          eachMessage: ({ message }) => {
            read += 1;
            if (message.value) spans += countSpans(message.value);
            if (read >= messages) {
              clearTimeout(timer);
              done();
            }
            return Promise.resolve();
          },
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          fail(err instanceof Error ? err : new Error(String(err)));
        });
    });
  } finally {
    await consumer.disconnect();
  }
  return { messages, spans };
}

// --------------------------------------------------------------------------------------- CPU of the sinks

/** CPU time of the process on the receiving end (µs), sampled at the edges of a contender's window. */
type CpuMeter = () => number | undefined;

const ownCpu: CpuMeter = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** The Kafka broker's CPU from /proc (Linux; only for a broker the stack scripts started). */
function brokerCpu(broker: KafkaBroker, ticksPerSecond = 100): CpuMeter {
  let pid: number | undefined;
  try {
    pid = Number(readFileSync(join(broker.dir, 'pid'), 'utf8').trim());
  } catch {
    pid = undefined;
  }
  return () => {
    if (!pid) return undefined;
    try {
      // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the line.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / ticksPerSecond;
    } catch {
      return undefined;
    }
  };
}

// ------------------------------------------------------------------------------------------ one run

interface RunRecord {
  round: number;
  result: ContenderResult;
  /** CPU of the receiving process during the measured window, µs (approximate: other work is included). */
  sinkCpuMicros: number | undefined;
}

function runContender(
  spec: ContenderSpec,
  opts: Options,
  sinkCpu: CpuMeter | undefined,
): Promise<{ result: ContenderResult; sinkCpuMicros: number | undefined }> {
  const profArgs = opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', resolve(opts.cpuProfDir)] : [];
  const child = spawn(
    process.execPath,
    ['--expose-gc', ...profArgs, '--import', 'tsx', CONTENDER_FILE, JSON.stringify(spec)],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let result: ContenderResult | undefined;
  let sinkAtStart: number | undefined;
  let sinkCpuMicros: number | undefined;
  let stderrTail = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line === START_LINE) {
      sinkAtStart = sinkCpu?.();
    } else if (line.startsWith(RESULT_PREFIX)) {
      const end = sinkCpu?.();
      if (sinkAtStart !== undefined && end !== undefined) sinkCpuMicros = end - sinkAtStart;
      result = JSON.parse(line.slice(RESULT_PREFIX.length)) as ContenderResult;
    } else {
      process.stderr.write(`  [${spec.kind}] ${line}\n`);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4_000);
  });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`contender ${spec.kind} did not finish within ${opts.runTimeoutMillis} ms\n${stderrTail}`));
    }, opts.runTimeoutMillis);
    child.on('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && result) done({ result, sinkCpuMicros });
      else fail(new Error(`contender ${spec.kind} exited with ${code ?? signal}; stderr:\n${stderrTail}`));
    });
  });
}

// ------------------------------------------------------------------------------------------ report

const cpuPerSpan = (r: ContenderResult): number => (r.cpuUserMicros + r.cpuSystemMicros) / r.delivered;
const spansPerSecond = (r: ContenderResult): number => r.delivered / (r.elapsedMillis / 1000);
const coresBusy = (r: ContenderResult): number => (r.cpuUserMicros + r.cpuSystemMicros) / 1000 / r.elapsedMillis;

function stats(values: number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
  return { min: sorted[0] ?? NaN, median, max: sorted.at(-1) ?? NaN };
}

const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const triple = (values: number[], f: (n: number) => string): string => {
  const s = stats(values);
  return `${f(s.min)} · **${f(s.median)}** · ${f(s.max)}`;
};

function resultsTable(defs: ContenderDef[], runs: Map<string, RunRecord[]>): string {
  const lines = [
    '| contender | runs | delivered / created | spans/s min · **median** · max | CPU µs/span min · **median** · max | cores busy (median) | export latency ms (median) | sink CPU µs/span (median, approx.) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const def of defs) {
    const records = runs.get(def.id) ?? [];
    if (records.length === 0) continue;
    const results = records.map((r) => r.result);
    const delivered = results.reduce((n, r) => n + r.delivered, 0);
    const created = results.reduce((n, r) => n + r.created, 0);
    const sink = records.map((r) => r.sinkCpuMicros).filter((v): v is number => v !== undefined);
    const sinkCell = sink.length
      ? fmt(stats(sink.map((v, i) => v / (results[i]?.delivered ?? NaN))).median)
      : def.kind === 'noop' || def.kind === 'serializer'
        ? 'n/a'
        : '–';
    lines.push(
      `| ${def.label} | ${records.length} | ${fmtInt(delivered)} / ${fmtInt(created)} | ${triple(results.map(spansPerSecond), fmtInt)} | ${triple(results.map(cpuPerSpan), (n) => fmt(n))} | ${fmt(stats(results.map(coresBusy)).median, 2)} | ${fmt(stats(results.map((r) => r.exportLatencyMillis)).median, 2)} | ${sinkCell} |`,
    );
  }
  return lines.join('\n');
}

/** CPU per span by thread group: the JS thread, librdkafka's threads, the rest (V8 GC/compiler helpers, libuv). */
function threadsTable(defs: ContenderDef[], runs: Map<string, RunRecord[]>): string {
  const groups = ['main', 'librdkafka', 'other'];
  const lines = [
    '| contender | JS main thread | librdkafka threads | other threads (GC, JIT, libuv) |',
    '|---|---:|---:|---:|',
  ];
  for (const def of defs) {
    const results = (runs.get(def.id) ?? []).map((r) => r.result);
    if (results.length === 0 || results.every((r) => Object.keys(r.threadCpuMicros).length === 0)) continue;
    const cells = groups.map((g) => fmt(stats(results.map((r) => (r.threadCpuMicros[g] ?? 0) / r.delivered)).median));
    lines.push(`| ${def.label} | ${cells.join(' | ')} |`);
  }
  return lines.length > 2 ? `CPU µs per span by thread (medians; /proc, 10 ms ticks):\n\n${lines.join('\n')}` : '';
}

/** Per-round ratio a/b of `metric` (both ran in the same round, so they saw the same machine load). */
function pairedRatios(
  runs: Map<string, RunRecord[]>,
  a: string,
  b: string,
  metric: (r: ContenderResult) => number,
): number[] {
  const byRound = new Map((runs.get(b) ?? []).map((r) => [r.round, metric(r.result)]));
  return (runs.get(a) ?? []).flatMap((r) => {
    const other = byRound.get(r.round);
    return other === undefined ? [] : [metric(r.result) / other];
  });
}

function ratioLine(label: string, ratios: number[], target?: { op: '≤' | '≥'; value: number }): string {
  if (ratios.length === 0) return `| ${label} | – | – | – |`;
  const s = stats(ratios);
  let verdict = '';
  if (target) {
    const met = target.op === '≤' ? s.median <= target.value : s.median >= target.value;
    const allMet = target.op === '≤' ? s.max <= target.value : s.min >= target.value;
    verdict = `${target.op} ${target.value}: ${met ? (allMet ? 'met (every round)' : 'met (median)') : '**missed**'}`;
  }
  return `| ${label} | ${fmt(s.min, 2)} · **${fmt(s.median, 2)}** · ${fmt(s.max, 2)} | ${verdict} |`;
}

function report(defs: ContenderDef[], runs: Map<string, RunRecord[]>): string {
  const out: string[] = [resultsTable(defs, runs), '', threadsTable(defs, runs), ''];
  const has = (id: string): boolean => (runs.get(id)?.length ?? 0) > 0;
  out.push('| ratio (paired per round) | min · **median** · max | target |', '|---|---:|---|');
  if (has('kafka') && has('otlp-http')) {
    out.push(
      ratioLine('(c)/(d) CPU µs per span', pairedRatios(runs, 'kafka', 'otlp-http', cpuPerSpan), {
        op: '≤',
        value: 0.6,
      }),
    );
    out.push(
      ratioLine('(c)/(d) spans/s', pairedRatios(runs, 'kafka', 'otlp-http', spansPerSecond), { op: '≥', value: 1.5 }),
    );
  }
  for (const def of defs.filter((d) => d.extra && d.kind === 'kafka' && has(d.id))) {
    const versus = def.versus ?? 'kafka';
    if (!has(versus)) continue;
    out.push(ratioLine(`${def.id} / ${versus} spans/s`, pairedRatios(runs, def.id, versus, spansPerSecond)));
    out.push(ratioLine(`${def.id} / ${versus} CPU µs per span`, pairedRatios(runs, def.id, versus, cpuPerSpan)));
  }
  if (has('serializer') && has('serializer-fast')) {
    // The encoders alone: CPU over the floor of span creation when (a) ran too.
    const floor = has('noop') ? stats((runs.get('noop') ?? []).map((r) => cpuPerSpan(r.result))).median : 0;
    const over = (id: string): number[] => (runs.get(id) ?? []).map((r) => cpuPerSpan(r.result) - floor);
    const bytes = (id: string): number => {
      const results = (runs.get(id) ?? []).map((r) => r.result);
      return results.reduce((n, r) => n + (r.serializedBytes ?? 0), 0) / results.reduce((n, r) => n + r.delivered, 0);
    };
    out.push(
      ratioLine(
        `(b')/(b) encoder CPU µs per span${floor ? ' over (a)' : ''}: ${fmt(stats(over('serializer-fast')).median, 2)} vs ${fmt(stats(over('serializer')).median, 2)}`,
        (runs.get('serializer-fast') ?? []).flatMap((r) => {
          const other = (runs.get('serializer') ?? []).find((o) => o.round === r.round);
          return other ? [(cpuPerSpan(r.result) - floor) / (cpuPerSpan(other.result) - floor)] : [];
        }),
      ),
      `| bytes per span, (b') vs (b) | ${fmt(bytes('serializer-fast'), 1)} vs ${fmt(bytes('serializer'), 1)} | |`,
    );
  }
  if (has('noop') && has('serializer') && has('kafka')) {
    const median = (id: string): number => stats((runs.get(id) ?? []).map((r) => cpuPerSpan(r.result))).median;
    const floor = median('noop');
    const serializer = median('serializer') - floor;
    const kafka = median('kafka') - floor;
    out.push(
      '',
      'Where the CPU goes (medians, µs per span):',
      `- span creation + BSP (a): ${fmt(floor, 2)}`,
      `- OTLP protobuf serialization, (b) − (a): ${fmt(serializer, 2)}`,
      `- KafkaSpanExporter in total, (c) − (a): ${fmt(kafka, 2)} — serializer share ${fmt((100 * serializer) / kafka, 0)} %, the rest (grouping by trace, per-trace encoding overhead, producing, librdkafka threads) ${fmt(kafka - serializer, 2)}`,
    );
    if (has('otlp-http')) {
      out.push(`- OTLPTraceExporter in total, (d) − (a): ${fmt(median('otlp-http') - floor, 2)}`);
    }
    const serializerRuns = (runs.get('serializer') ?? []).map((r) => r.result);
    const bytes = serializerRuns.reduce((n, r) => n + (r.serializedBytes ?? 0), 0);
    const spans = serializerRuns.reduce((n, r) => n + r.delivered, 0);
    if (spans > 0) out.push(`- OTLP protobuf size: ${fmt(bytes / spans, 0)} B per span (512-span requests)`);
  }
  return out.join('\n');
}

// ------------------------------------------------------------------------------------------ main

/** The 1, 5 and 15 minute load averages: other work on the machine skews every number here. */
const loadAverage = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** The same BSP settings, span counts and bounds for every contender. */
function baseSpec(kind: ContenderKind, opts: Options): ContenderSpec {
  return {
    kind,
    spans: opts.spans,
    warmupSpans: opts.warmupSpans,
    maxExportBatchSize: 512,
    maxQueueSize: 65_536,
    scheduledDelayMillis: 10,
    chunkTraces: 100,
    queueBoundSpans: 1_024,
    stallTimeoutMillis: 30_000,
  };
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2), process.env);
  const defs = CONTENDERS.filter((d) => (opts.only ? opts.only.includes(d.id) : opts.extras || !d.extra));
  const endpoints = stackEndpoints();
  const needsKafka = defs.some((d) => d.kind === 'kafka');
  let broker: KafkaBroker | undefined;
  let dedicated: KafkaBroker | undefined;
  if (opts.broker === 'dedicated' && needsKafka) {
    const [port, controllerPort] = (await freePorts(2)) as [number, number];
    dedicated = new KafkaBroker({
      name: `kafka-bench-${randomBytes(3).toString('hex')}`,
      port,
      controllerPort,
    });
    const own = dedicated;
    // Ctrl-C must not leave the private broker's JVM behind.
    process.once('SIGINT', () => {
      void own.destroy().finally(() => process.exit(130));
    });
    await dedicated.start().catch(async (err: unknown) => {
      await own.destroy();
      throw err;
    });
    broker = dedicated;
  } else if (!endpoints.external) {
    await stackUp();
    broker = new KafkaBroker();
  }
  const brokers = broker ? [broker.bootstrap] : endpoints.kafkaBrokers;

  console.log(
    `bench:exporter — node ${process.version}, ${cpus().length} cores, load average ${loadAverage()}; ` +
      `${opts.rounds} rounds × ${fmtInt(opts.spans)} spans (+${fmtInt(opts.warmupSpans)} warm-up) per contender; ` +
      `kafka ${brokers.join(',')} (${opts.broker} broker)`,
  );
  const httpSink = await startHttpSink();
  const admin = needsKafka ? kafkaClient(brokers).admin() : undefined;
  await admin?.connect();
  const kafkaCpu = broker ? brokerCpu(broker) : undefined;
  const runs = new Map<string, RunRecord[]>();
  const problems: string[] = [];
  try {
    // A fresh broker's JVM compiles its produce path during the first runs, and the HTTP sink's does too:
    // one unmeasured run of each kind first, so round 1 does not bill that to whichever contender ran first.
    for (const kind of ['kafka', 'otlp-http'] as const) {
      if (!defs.some((d) => d.kind === kind)) continue;
      const spec = baseSpec(kind, opts);
      if (kind === 'kafka') {
        if (!admin) throw new Error('no Kafka admin client');
        spec.brokers = brokers;
        spec.topic = await createTopic(admin, 'okj-bench-warmup');
      } else {
        spec.url = httpSink.url;
      }
      await runContender(spec, opts, undefined);
      if (spec.topic) await admin?.deleteTopics({ topics: [spec.topic] }).catch(() => undefined);
      console.log(`warm-up run of ${kind} done (not measured)`);
    }
    for (let round = 1; round <= opts.rounds; round++) {
      // Rotate the order so no contender always runs first (or right after the Kafka read-back).
      const order = defs.map((_, i) => defs[(i + round - 1) % defs.length]).filter((d): d is ContenderDef => !!d);
      for (const def of order) {
        const spec = baseSpec(def.kind, opts);
        if (def.encoder !== undefined) spec.encoder = def.encoder;
        if (def.spansPerTrace !== undefined) {
          spec.spansPerTrace = def.spansPerTrace;
          // About 500 spans between two yields to the event loop, whatever the trace size.
          spec.chunkTraces = Math.max(1, Math.round(500 / def.spansPerTrace));
        }
        let sinkCpu: CpuMeter | undefined;
        if (def.kind === 'kafka') {
          if (!admin) throw new Error('no Kafka admin client');
          spec.brokers = brokers;
          spec.topic = await createTopic(admin, `okj-bench-${def.id}`);
          if (def.lingerMillis !== undefined) spec.lingerMillis = def.lingerMillis;
          if (def.compression !== undefined) spec.compression = def.compression;
          if (def.partitionByTraceId !== undefined) spec.partitionByTraceId = def.partitionByTraceId;
          if (def.messagePer !== undefined) spec.messagePer = def.messagePer;
          if (def.rdkafka !== undefined) spec.rdkafka = def.rdkafka;
          if (def.spool) spec.spool = true;
          sinkCpu = kafkaCpu;
        } else if (def.kind === 'otlp-http') {
          spec.url = httpSink.url;
          httpSink.spans = 0;
          httpSink.rejected = 0;
          sinkCpu = ownCpu;
        }
        const { result, sinkCpuMicros } = await runContender(spec, opts, sinkCpu);
        (runs.get(def.id) ?? runs.set(def.id, []).get(def.id))?.push({ round, result, sinkCpuMicros });

        const checks: string[] = [];
        if (result.delivered !== result.created || result.failed > 0) {
          checks.push(
            `LOST SPANS: delivered ${result.delivered} of ${result.created} created (failed ${result.failed}${result.firstError ? `: ${result.firstError}` : ''})`,
          );
        }
        if (def.kind === 'otlp-http' && httpSink.spans !== result.deliveredTotal) {
          checks.push(`HTTP sink counted ${httpSink.spans} spans, contender delivered ${result.deliveredTotal}`);
        }
        if (def.kind === 'otlp-http' && httpSink.rejected > 0)
          checks.push(`HTTP sink rejected ${httpSink.rejected} bodies`);
        let readBackNote = '';
        if (def.kind === 'kafka' && admin && spec.topic) {
          if (opts.readback) {
            const topic = await readBack(brokers, admin, spec.topic);
            readBackNote = `, topic holds ${fmtInt(topic.spans)} spans in ${fmtInt(topic.messages)} messages`;
            if (topic.spans !== result.deliveredTotal) {
              checks.push(
                `topic ${spec.topic} holds ${topic.spans} spans, contender delivered ${result.deliveredTotal}`,
              );
            }
          }
          await admin.deleteTopics({ topics: [spec.topic] }).catch((err: unknown) => {
            console.error(`  could not delete topic ${spec.topic}: ${String(err)}`);
          });
        }
        console.log(
          `round ${round} ${def.id.padEnd(25)} ${fmtInt(spansPerSecond(result)).padStart(8)} spans/s ${fmt(cpuPerSpan(result), 2).padStart(6)} µs CPU/span, delivered ${fmtInt(result.delivered)}/${fmtInt(result.created)} in ${result.exports} exports${readBackNote}`,
        );
        for (const check of checks) {
          console.error(`  FAILED CHECK (${def.id}, round ${round}): ${check}`);
          problems.push(`${def.id} round ${round}: ${check}`);
        }
      }
    }
  } finally {
    await httpSink.close();
    await admin?.disconnect();
    await dedicated?.destroy();
  }
  console.log(`\nload average at the end: ${loadAverage()}\n`);
  console.log(report(defs, runs));
  if (problems.length > 0) {
    console.error(`\nbench:exporter FAILED: a contender lost spans or a sink disagrees:\n- ${problems.join('\n- ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench:exporter failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
