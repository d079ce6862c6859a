// `npm run bench:forwarder`: how fast the forwarder drains a backlog into Jaeger, next to Jaeger's own Kafka
// receiver and to Jaeger's ingest ceiling, and what it costs in CPU per span.
//
// A topic (4 partitions) is filled once with traces of the benchmark's shape, one OTLP protobuf request per
// trace; every contender then reads all of it from the beginning with its own consumer group, one after the
// other, each into a fresh Jaeger (memory storage, no batch processor: a 200 means stored), stopped afterwards:
//   (a) our forwarder, in a child process, into Jaeger's OTLP/HTTP receiver (also OTLP/gRPC and Thrift/HTTP);
//   (b) Jaeger v2's own kafka receiver on the same topic: the peer a user would otherwise run;
//   (c) our forwarder into a sink that accepts at once: our own ceiling;
//   (d) the same encoded traces POSTed straight to Jaeger's OTLP/HTTP receiver: Jaeger's ceiling S_J.
// The drain ends when every span is stored (accepted, for (c)); every Jaeger is then asked how many traces and
// spans it holds, and every consumer group's committed offsets must have reached the end of the topic.
//
// Options (argument `--name=value`, or the environment variable in brackets):
//   --spans=300000        [BENCH_SPANS]          spans on the topic (traces of 5 spans; ≤ 1,000,000)
//   --traces-per-record=1 [BENCH_TRACES_PER_RECORD] traces per record (e.g. 25: records of 125 spans, as an
//                                                 exporter grouping by partition writes them)
//   --rounds=1            [BENCH_ROUNDS]         every contender once per round, order rotating
//   --only=a,b            [BENCH_ONLY]           contender ids (see CONTENDERS); default: all but the extras
//   --extras              [BENCH_EXTRAS=1]       also run the forwarder setting variants (ids `fwd-http-*`)
//   --max-records, --max-bytes, --linger, --in-flight, --max-buffered, --consumer-cache-ms   [BENCH_MAX_RECORDS,
//                                                 BENCH_MAX_BYTES, BENCH_LINGER_MS, BENCH_IN_FLIGHT,
//                                                 BENCH_MAX_BUFFERED_BYTES, BENCH_CONSUMER_CACHE_MS] forwarder
//                                                 settings for the contenders that set none of their own (default:
//                                                 the forwarder's and the client's defaults)
//   --direct-concurrency=4  [BENCH_DIRECT_CONCURRENCY]  requests in flight for (d)
//   --direct-spans=500    [BENCH_DIRECT_SPANS]   spans per request for (d)
//   --cpu-prof=<dir>      [BENCH_CPU_PROF]       a V8 CPU profile of each forwarder run's measured window (main
//                                                 thread), <dir>/<id>-r<round>.cpuprofile; profiled runs cost more
//   --timeout=120000      [BENCH_STALL_TIMEOUT_MS] a drain that makes no progress for this long fails
//   --broker=shared       [BENCH_BROKER]         `shared`: the stack's broker (npm run stack:up); `dedicated`: a
//                                                 private broker on free ports, deleted afterwards
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';

import { KafkaJS } from '@confluentinc/kafka-javascript';

import {
  freeJaegerPorts,
  freePorts,
  JaegerInstance,
  KafkaBroker,
  stackEndpoints,
  stackUp,
} from '../../scripts/stack/stack';
import type { JaegerKafkaReceiverOptions } from '../../scripts/stack/stack';
import { readCommittedOffsets } from '../../src/kafka/committed-offsets';
import { SPANS_PER_TRACE } from '../exporter/span-shape';
import { makeBodies, postDirect } from './direct-post';
import type { DirectBody } from './direct-post';
import { countStored, jaegerPid, traceStored } from './jaeger-probe';
import type { StoredCount } from './jaeger-probe';
import { prefillTopic } from './prefill';
import type { PrefilledTopic } from './prefill';
import { processCpuMicros } from './proc-stat';
import { RESULT_PREFIX, START_LINE, STOPPED_PREFIX } from './protocol';
import type { ForwarderResult, ForwarderSettings, ForwarderSpec, SinkKind } from './protocol';

const REPO_ROOT = resolve(__dirname, '..', '..');
const CHILD_FILE = join(__dirname, 'forwarder-child.ts');
const THRIFT_SINK_FILE = join(REPO_ROOT, 'src', 'sinks', 'jaeger-thrift-http-sink.ts');
const PARTITIONS = 4;
const TRACES_PER_SERVICE = 5_000;
/** Jaeger's memory storage (as the stack scripts configure it) keeps at most this many traces. */
const JAEGER_MAX_TRACES = 200_000;
/** How often (b)'s Jaeger is asked whether the last trace of each partition is stored yet. */
const JAEGER_POLL_MILLIS = 50;
const COMMIT_WAIT_MILLIS = 30_000;
const CHILD_EXIT_MILLIS = 60_000;

type ContenderKind = 'forwarder' | 'jaeger-kafka' | 'direct';

interface ContenderDef {
  id: string;
  label: string;
  kind: ContenderKind;
  sink?: SinkKind;
  /** `consumer`: only the Kafka client under the forwarder (see ForwarderSpec.mode). */
  mode?: 'consumer' | 'raw-consumer';
  /** A forwarder setting variant (run with `--extras`); unset settings take the base settings. */
  extra?: boolean;
  settings?: ForwarderSettings;
}

/** (a) with some forwarder settings changed: id `fwd-http-r<maxRecords>-f<maxInFlight>-buf<MiB>`. */
function httpVariant(settings: ForwarderSettings): ContenderDef {
  const { maxRecords, maxInFlightRequests, maxBufferedBytes, consumerCacheMillis } = settings;
  const parts: [string, string][] = [];
  if (maxRecords !== undefined) parts.push([`r${maxRecords}`, `maxRecords ${maxRecords}`]);
  if (maxInFlightRequests !== undefined) {
    parts.push([`f${maxInFlightRequests}`, `maxInFlightRequests ${maxInFlightRequests}`]);
  }
  if (maxBufferedBytes !== undefined) {
    const mib = maxBufferedBytes / 2 ** 20;
    parts.push([`buf${mib}`, `maxBufferedBytes ${mib} MiB`]);
  }
  if (consumerCacheMillis !== undefined) {
    parts.push([`cache${consumerCacheMillis}`, `consumer cache ${consumerCacheMillis} ms`]);
  }
  return {
    id: ['fwd-http', ...parts.map(([id]) => id)].join('-'),
    label: `(a) OTLP/HTTP, ${parts.map(([, label]) => label).join(', ')}`,
    kind: 'forwarder',
    sink: 'otlp-http',
    extra: true,
    settings,
  };
}

const CONTENDERS: ContenderDef[] = [
  { id: 'fwd-http', label: '(a) forwarder → Jaeger OTLP/HTTP', kind: 'forwarder', sink: 'otlp-http' },
  { id: 'jaeger-kafka', label: "(b) Jaeger's own kafka receiver", kind: 'jaeger-kafka' },
  { id: 'fwd-discard', label: '(c) forwarder → discarding sink', kind: 'forwarder', sink: 'discard' },
  {
    id: 'consumer-floor',
    label: '(c0) Kafka consumer alone (eachBatch, discards): the client under (c)',
    kind: 'forwarder',
    sink: 'discard',
    mode: 'consumer',
  },
  {
    id: 'raw-consumer-floor',
    label: '(c00) Kafka consumer alone, librdkafka consume(n) API (discards)',
    kind: 'forwarder',
    sink: 'discard',
    mode: 'raw-consumer',
  },
  { id: 'direct', label: '(d) direct OTLP/HTTP POSTs → Jaeger (S_J)', kind: 'direct' },
  { id: 'fwd-grpc', label: '(a) forwarder → Jaeger OTLP/gRPC', kind: 'forwarder', sink: 'otlp-grpc' },
  { id: 'fwd-thrift', label: '(a) forwarder → Jaeger Thrift/HTTP', kind: 'forwarder', sink: 'jaeger-thrift' },
  ...[
    { maxRecords: 100, maxInFlightRequests: 2 },
    { maxRecords: 100, maxInFlightRequests: 4 },
    { maxRecords: 100, maxInFlightRequests: 8 },
    { maxRecords: 500, maxInFlightRequests: 4 },
    { maxRecords: 1_000, maxInFlightRequests: 4 },
    { maxBufferedBytes: 256 * 2 ** 20 },
    { maxRecords: 100, maxInFlightRequests: 4, maxBufferedBytes: 256 * 2 ** 20 },
    { maxRecords: 500, maxInFlightRequests: 4, maxBufferedBytes: 256 * 2 ** 20 },
    { consumerCacheMillis: 100 },
    { consumerCacheMillis: 20 },
    { maxRecords: 500, maxInFlightRequests: 4, consumerCacheMillis: 100 },
    { maxRecords: 500, maxInFlightRequests: 4, consumerCacheMillis: 20 },
  ].map(httpVariant),
  {
    id: 'fwd-discard-cache100',
    label: '(c) discarding sink, consumer cache 100 ms',
    kind: 'forwarder',
    sink: 'discard',
    extra: true,
    settings: { consumerCacheMillis: 100 },
  },
  {
    id: 'consumer-floor-cache100',
    label: '(c0) Kafka consumer alone, consumer cache 100 ms',
    kind: 'forwarder',
    sink: 'discard',
    mode: 'consumer',
    extra: true,
    settings: { consumerCacheMillis: 100 },
  },
];

interface Options {
  spans: number;
  tracesPerRecord: number;
  rounds: number;
  only: string[] | undefined;
  extras: boolean;
  base: ForwarderSettings;
  directConcurrency: number;
  directSpans: number;
  cpuProfDir: string | undefined;
  stallTimeoutMillis: number;
  broker: 'shared' | 'dedicated';
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const args = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--(no-)?([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match?.[2]) throw new Error(`unknown argument ${arg} (see the header of bench/forwarder/run.ts)`);
    args.set(match[2], match[1] ? '0' : (match[3] ?? '1'));
  }
  const known = new Set([
    'spans',
    'traces-per-record',
    'rounds',
    'only',
    'extras',
    'max-records',
    'max-bytes',
    'linger',
    'in-flight',
    'max-buffered',
    'consumer-cache-ms',
    'direct-concurrency',
    'direct-spans',
    'cpu-prof',
    'timeout',
    'broker',
  ]);
  for (const name of args.keys()) if (!known.has(name)) throw new Error(`unknown option --${name}`);
  const value = (name: string, envName: string): string | undefined => args.get(name) ?? env[envName];
  const optionalInt = (name: string, envName: string, min: number, max: number): number | undefined => {
    const raw = value(name, envName);
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw.replaceAll('_', ''));
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(`--${name} / ${envName}: ${raw} is not an integer in [${min}, ${max}]`);
    }
    return n;
  };
  const int = (name: string, envName: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
    optionalInt(name, envName, min, max) ?? fallback;
  const only = value('only', 'BENCH_ONLY')
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const id of only ?? []) {
    if (!CONTENDERS.some((c) => c.id === id)) {
      throw new Error(`unknown contender ${id}; known: ${CONTENDERS.map((c) => c.id).join(', ')}`);
    }
  }
  const broker = value('broker', 'BENCH_BROKER') ?? 'shared';
  if (broker !== 'shared' && broker !== 'dedicated') {
    throw new Error(`--broker=${broker}: expected shared or dedicated`);
  }
  const spans = int('spans', 'BENCH_SPANS', 300_000, SPANS_PER_TRACE, JAEGER_MAX_TRACES * SPANS_PER_TRACE);
  const tracesPerRecord = int('traces-per-record', 'BENCH_TRACES_PER_RECORD', 1, 1, 1_000);
  const spansPerRecord = tracesPerRecord * SPANS_PER_TRACE;
  const base: ForwarderSettings = {};
  const maxRecords = optionalInt('max-records', 'BENCH_MAX_RECORDS', 1, 1_000_000);
  const maxBytes = optionalInt('max-bytes', 'BENCH_MAX_BYTES', 1_024, 1_073_741_824);
  const lingerMillis = optionalInt('linger', 'BENCH_LINGER_MS', 0, 60_000);
  const maxInFlightRequests = optionalInt('in-flight', 'BENCH_IN_FLIGHT', 1, 64);
  const maxBufferedBytes = optionalInt('max-buffered', 'BENCH_MAX_BUFFERED_BYTES', 1_048_576, 2 ** 34);
  const consumerCacheMillis = optionalInt('consumer-cache-ms', 'BENCH_CONSUMER_CACHE_MS', 1, 60_000);
  if (maxRecords !== undefined) base.maxRecords = maxRecords;
  if (maxBytes !== undefined) base.maxBytes = maxBytes;
  if (lingerMillis !== undefined) base.lingerMillis = lingerMillis;
  if (maxInFlightRequests !== undefined) base.maxInFlightRequests = maxInFlightRequests;
  if (maxBufferedBytes !== undefined) base.maxBufferedBytes = maxBufferedBytes;
  if (consumerCacheMillis !== undefined) base.consumerCacheMillis = consumerCacheMillis;
  return {
    spans: Math.ceil(spans / spansPerRecord) * spansPerRecord,
    tracesPerRecord,
    rounds: int('rounds', 'BENCH_ROUNDS', 1, 1, 100),
    only,
    extras: !['0', 'false', 'no'].includes(value('extras', 'BENCH_EXTRAS') ?? '0'),
    base,
    directConcurrency: int('direct-concurrency', 'BENCH_DIRECT_CONCURRENCY', 4, 1, 64),
    directSpans: int('direct-spans', 'BENCH_DIRECT_SPANS', 500, SPANS_PER_TRACE, 100_000),
    cpuProfDir: value('cpu-prof', 'BENCH_CPU_PROF'),
    stallTimeoutMillis: int('timeout', 'BENCH_STALL_TIMEOUT_MS', 120_000, 1_000),
    broker,
  };
}

// ------------------------------------------------------------------------------------------ clean-up

/** Everything started here that must not outlive this process (Jaegers, children, a private broker). */
const cleanups = new Set<() => Promise<void>>();

function registerCleanup(fn: () => Promise<void>): () => Promise<void> {
  cleanups.add(fn);
  return async () => {
    cleanups.delete(fn);
    await fn();
  };
}

async function cleanupAll(): Promise<void> {
  for (const fn of [...cleanups].reverse()) {
    cleanups.delete(fn);
    await fn().catch((err: unknown) => console.error(`clean-up failed: ${String(err)}`));
  }
}

// ------------------------------------------------------------------------------------------ Kafka

function kafkaClient(brokers: string[]): KafkaJS.Kafka {
  return new KafkaJS.Kafka({ kafkaJS: { brokers, clientId: 'okj-bench', logLevel: KafkaJS.logLevel.NOTHING } });
}

/**
 * True when the group's committed offsets equal the end of every partition. Read through a consumer handle
 * (src/kafka/committed-offsets.ts: the Admin API's read can crash librdkafka 2.15), which connects each time: a
 * poll takes a few tens of milliseconds more, against drains of seconds.
 */
async function groupAtEnd(brokers: string[], groupId: string, prefill: PrefilledTopic): Promise<boolean> {
  const committed = await readCommittedOffsets(
    { 'bootstrap.servers': brokers.join(',') },
    groupId,
    prefill.topic,
    10_000,
  );
  return prefill.partitions.every((p) => committed.get(p.partition) === p.records);
}

/** Polls the group's committed offsets until they reach the end; resolves when, or undefined on timeout. */
async function waitGroupAtEnd(
  brokers: string[],
  groupId: string,
  prefill: PrefilledTopic,
  started: number,
): Promise<number | undefined> {
  const deadline = performance.now() + COMMIT_WAIT_MILLIS;
  while (performance.now() < deadline) {
    if (await groupAtEnd(brokers, groupId, prefill).catch(() => false)) return performance.now() - started;
    await delay(100);
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------ Jaeger

/** A fresh Jaeger (memory storage, free ports), registered for clean-up; not started. */
async function freshJaeger(id: string, kafkaReceiver?: JaegerKafkaReceiverOptions): Promise<JaegerInstance> {
  return new JaegerInstance({
    name: `okj-bench-fwd-${id}-${randomBytes(3).toString('hex')}`,
    storage: 'memory',
    ports: await freeJaegerPorts(),
    ...(kafkaReceiver && { kafkaReceiver }),
  });
}

// ------------------------------------------------------------------------------------------ one run

interface Measurement {
  id: string;
  round: number;
  /** Spans stored in (or, for (c), accepted by) the sink when the drain ended. */
  spans: number;
  /** From the start (forwarder: `start()`; (b): Jaeger spawned; (d): first POST) until every span was stored. */
  elapsedMillis: number;
  /** From the start until the first span was stored. */
  firstMillis: number;
  /** CPU of the forwarder process ((a), (c)) or of the posting process ((d)), µs. */
  clientCpuMicros: number | undefined;
  threadCpuMicros: Record<string, number> | undefined;
  /** CPU of the Jaeger process during the drain, µs ((b): since its start, start-up included). */
  jaegerCpuMicros: number | undefined;
  /** CPU of the Kafka broker during the same window, µs (it serves the fetches; approximate). */
  brokerCpuMicros: number | undefined;
  /** CPU the Jaeger process had used when it was ready, before the drain ((a), (d)). */
  jaegerStartupCpuMicros: number | undefined;
  requests: number | undefined;
  stored: StoredCount | undefined;
  /** Forwarder processes: event-loop delay over the window, ms. */
  eventLoopDelayMillis: { p99: number; max: number } | undefined;
  /** Whether the group's committed offsets reached the end offsets (undefined: not checked). */
  groupAtEnd: boolean | undefined;
  /** (b): from Jaeger's spawn until its group's committed offsets reached the end of the topic. */
  committedMillis: number | undefined;
  problems: string[];
  notes: string[];
}

interface RunContext {
  opts: Options;
  /** The broker's pid when this machine runs it (for its CPU), else undefined. */
  brokerPid: number | undefined;
  brokers: string[];
  admin: KafkaJS.Admin;
  prefill: PrefilledTopic;
  bodies: DirectBody[];
}

function newMeasurement(def: ContenderDef, round: number): Measurement {
  return {
    id: def.id,
    round,
    spans: 0,
    elapsedMillis: NaN,
    firstMillis: NaN,
    clientCpuMicros: undefined,
    threadCpuMicros: undefined,
    jaegerCpuMicros: undefined,
    brokerCpuMicros: undefined,
    jaegerStartupCpuMicros: undefined,
    requests: undefined,
    stored: undefined,
    committedMillis: undefined,
    groupAtEnd: undefined,
    eventLoopDelayMillis: undefined,
    problems: [],
    notes: [],
  };
}

function queryWindow(prefill: PrefilledTopic): { startMillis: number; endMillis: number } {
  return { startMillis: prefill.createdAtMillis - 60_000, endMillis: Date.now() + 60_000 };
}

/** Asks Jaeger what it stores and records any difference from what the topic holds. */
async function verifyStored(jaeger: JaegerInstance, ctx: RunContext, m: Measurement): Promise<void> {
  const stored = await countStored(jaeger.queryUrl, ctx.prefill.services, queryWindow(ctx.prefill));
  m.stored = stored;
  if (stored.traces !== ctx.prefill.traces.length || stored.spans !== ctx.prefill.spans) {
    m.problems.push(
      `Jaeger stores ${stored.traces} traces / ${stored.spans} spans, the topic holds ` +
        `${ctx.prefill.traces.length} / ${ctx.prefill.spans} (${stored.mismatches.slice(0, 3).join(', ')})`,
    );
  }
  if (stored.duplicateSpans > 0) m.notes.push(`${stored.duplicateSpans} duplicate spans stored`);
}

/** CPU of some processes (undefined: not sampled) between `begin()` and `end()`, µs each. */
function cpuWindow(...pids: (number | undefined)[]): { begin(): void; end(): (number | undefined)[] } {
  let before: (number | undefined)[] = [];
  const sample = (): (number | undefined)[] =>
    pids.map((pid) => (pid === undefined ? undefined : processCpuMicros(pid)));
  return {
    begin: () => {
      before = sample();
    },
    end: () =>
      sample().map((after, i) => {
        const start = before[i];
        return after === undefined || start === undefined ? undefined : after - start;
      }),
  };
}

/** Runs one forwarder process against the topic; samples Jaeger's and the broker's CPU at the edges of its window. */
function runForwarderChild(
  spec: ForwarderSpec,
  jaeger: number | undefined,
  broker: number | undefined,
  timeoutMillis: number,
): Promise<{ result: ForwarderResult; jaegerCpuMicros: number | undefined; brokerCpuMicros: number | undefined }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD_FILE, JSON.stringify(spec)], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const unregister = registerCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return Promise.resolve();
  });
  let result: ForwarderResult | undefined;
  const cpu = cpuWindow(jaeger, broker);
  let jaegerCpuMicros: number | undefined;
  let brokerCpuMicros: number | undefined;
  let stderrTail = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line === START_LINE) {
      cpu.begin();
    } else if (line.startsWith(RESULT_PREFIX)) {
      [jaegerCpuMicros, brokerCpuMicros] = cpu.end();
      result = JSON.parse(line.slice(RESULT_PREFIX.length)) as ForwarderResult;
    } else if (!line.startsWith(STOPPED_PREFIX)) {
      process.stderr.write(`  [child] ${line}\n`);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-4_000);
  });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`forwarder child did not finish within ${timeoutMillis} ms\n${stderrTail}`));
    }, timeoutMillis);
    child.on('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      void unregister();
      if (code === 0 && result) done({ result, jaegerCpuMicros, brokerCpuMicros });
      else fail(new Error(`forwarder child exited with ${code ?? signal}; stderr:\n${stderrTail}`));
    });
  });
}

async function runForwarder(def: ContenderDef, round: number, ctx: RunContext): Promise<Measurement> {
  const m = newMeasurement(def, round);
  const sink = def.sink ?? 'otlp-http';
  const withJaeger = sink !== 'discard';
  const jaeger = withJaeger ? await freshJaeger(def.id) : undefined;
  const destroy = jaeger ? registerCleanup(() => jaeger.destroy()) : undefined;
  try {
    let pid: number | undefined;
    if (jaeger) {
      await jaeger.start();
      pid = jaegerPid(jaeger);
      m.jaegerStartupCpuMicros = processCpuMicros(pid);
    }
    const url =
      sink === 'otlp-http'
        ? jaeger?.otlpHttpUrl
        : sink === 'otlp-grpc'
          ? jaeger?.otlpGrpcUrl
          : sink === 'jaeger-thrift'
            ? jaeger?.thriftHttpUrl
            : undefined;
    const groupId = `okj-bench-fwd-${def.id}-${randomBytes(4).toString('hex')}`;
    const spec: ForwarderSpec = {
      mode: def.mode ?? 'forwarder',
      brokers: ctx.brokers,
      topic: ctx.prefill.topic,
      groupId,
      sink,
      ...(url !== undefined && { url }),
      settings: { ...ctx.opts.base, ...def.settings },
      expectedRecords: ctx.prefill.records.length,
      spansPerRecord: ctx.prefill.spansPerRecord,
      stallTimeoutMillis: ctx.opts.stallTimeoutMillis,
      ...(ctx.opts.cpuProfDir !== undefined && {
        cpuProfileFile: resolve(ctx.opts.cpuProfDir, `${def.id}-r${round}.cpuprofile`),
      }),
    };
    const { result, jaegerCpuMicros, brokerCpuMicros } = await runForwarderChild(
      spec,
      pid,
      ctx.brokerPid,
      ctx.opts.stallTimeoutMillis * 2 + CHILD_EXIT_MILLIS,
    );
    m.spans = result.acceptedSpans;
    m.elapsedMillis = result.elapsedMillis;
    m.firstMillis = result.firstAcceptMillis;
    m.clientCpuMicros = result.cpuUserMicros + result.cpuSystemMicros;
    m.threadCpuMicros = result.threadCpuMicros;
    m.jaegerCpuMicros = jaegerCpuMicros;
    m.brokerCpuMicros = brokerCpuMicros;
    m.requests = result.requests;
    m.eventLoopDelayMillis = { p99: result.eventLoopDelayP99Millis, max: result.eventLoopDelayMaxMillis };
    console.log(
      `  ${def.id}: start() ${result.startMillis.toFixed(0)} ms, first accepted at ${result.firstAcceptMillis.toFixed(0)} ms, ` +
        `event-loop delay p99 ${result.eventLoopDelayP99Millis.toFixed(0)} ms, max ${result.eventLoopDelayMaxMillis.toFixed(0)} ms, ` +
        `RSS ${(result.rssBytes / 2 ** 20).toFixed(0)} MiB`,
    );
    if (spec.cpuProfileFile) m.notes.push(`profiled (CPU figures include the profiler): ${spec.cpuProfileFile}`);
    if (result.warnings > 0) m.notes.push(`${result.warnings} forwarder warnings, first: ${result.firstWarning ?? ''}`);
    if (result.acceptedRecords !== ctx.prefill.records.length) {
      m.problems.push(
        `the sink accepted ${result.acceptedRecords} records, the topic holds ${ctx.prefill.records.length}`,
      );
    }
    // The child stopped its forwarder, which commits what was accepted: the group must be at the end now.
    if (spec.mode === 'forwarder') {
      m.groupAtEnd = await groupAtEnd(ctx.brokers, groupId, ctx.prefill);
      if (!m.groupAtEnd) m.problems.push(`group ${groupId} did not commit up to the end of the topic`);
    }
    if (jaeger) await verifyStored(jaeger, ctx, m);
  } finally {
    await destroy?.();
  }
  return m;
}

/**
 * (b): Jaeger's kafka receiver drains the topic. It stores each partition in order (franz-go consumer, one
 * goroutine per partition per fetch, `message_marking.after`), so the drain is over when the last trace of every
 * partition is stored; that is polled every {@link JAEGER_POLL_MILLIS} ms, then checked by counting everything.
 */
async function runJaegerKafka(def: ContenderDef, round: number, ctx: RunContext): Promise<Measurement> {
  const m = newMeasurement(def, round);
  const groupId = `okj-bench-fwd-${def.id}-${randomBytes(4).toString('hex')}`;
  const jaeger = await freshJaeger(def.id, { brokers: ctx.brokers, topic: ctx.prefill.topic, groupId });
  const destroy = registerCleanup(() => jaeger.destroy());
  try {
    // Build (or find) the binary first, so the window starts at the spawn, not at a build check.
    await jaeger.prepare();
    const brokerAtStart = ctx.brokerPid === undefined ? undefined : processCpuMicros(ctx.brokerPid);
    const started = performance.now();
    const deadline = started + ctx.opts.stallTimeoutMillis;
    let pid: number | undefined;
    const watch = async (): Promise<void> => {
      const firsts = ctx.prefill.partitions.filter((p) => p.records > 0).map((p) => p.firstTraceId);
      const pending = new Set(ctx.prefill.partitions.filter((p) => p.records > 0).map((p) => p.lastTraceId));
      let endAt = NaN;
      while (pending.size > 0) {
        if (performance.now() > deadline) {
          throw new Error(`Jaeger's receiver did not store the end of ${pending.size} partitions in time`);
        }
        const tick = performance.now();
        const probes: Promise<void>[] = [];
        if (Number.isNaN(m.firstMillis)) {
          for (const id of firsts) {
            probes.push(
              traceStored(jaeger.queryUrl, id).then((ok) => {
                if (ok && Number.isNaN(m.firstMillis)) m.firstMillis = performance.now() - started;
              }),
            );
          }
        }
        for (const id of pending) {
          probes.push(
            traceStored(jaeger.queryUrl, id).then((ok) => {
              if (!ok) return;
              pending.delete(id);
              endAt = performance.now();
            }),
          );
        }
        await Promise.all(probes);
        if (pending.size === 0) break;
        await delay(Math.max(0, JAEGER_POLL_MILLIS - (performance.now() - tick)));
      }
      pid ??= jaegerPid(jaeger);
      m.jaegerCpuMicros = processCpuMicros(pid);
      const brokerAtEnd = ctx.brokerPid === undefined ? undefined : processCpuMicros(ctx.brokerPid);
      if (brokerAtStart !== undefined && brokerAtEnd !== undefined) m.brokerCpuMicros = brokerAtEnd - brokerAtStart;
      m.elapsedMillis = endAt - started;
    };
    await Promise.all([jaeger.start(), watch()]);
    pid ??= jaegerPid(jaeger);
    m.spans = ctx.prefill.spans;
    m.committedMillis = await waitGroupAtEnd(ctx.brokers, groupId, ctx.prefill, started);
    m.groupAtEnd = m.committedMillis !== undefined;
    if (m.committedMillis === undefined) {
      m.problems.push(`Jaeger's group ${groupId} did not commit up to the end within ${COMMIT_WAIT_MILLIS} ms`);
    }
    await verifyStored(jaeger, ctx, m);
  } finally {
    await destroy();
  }
  return m;
}

async function runDirect(def: ContenderDef, round: number, ctx: RunContext): Promise<Measurement> {
  const m = newMeasurement(def, round);
  const jaeger = await freshJaeger(def.id);
  const destroy = registerCleanup(() => jaeger.destroy());
  try {
    await jaeger.start();
    const pid = jaegerPid(jaeger);
    m.jaegerStartupCpuMicros = processCpuMicros(pid);
    const cpu = cpuWindow(pid, ctx.brokerPid);
    cpu.begin();
    const result = await postDirect(jaeger.otlpHttpUrl, ctx.bodies, ctx.opts.directConcurrency);
    const [jaegerCpuMicros, brokerCpuMicros] = cpu.end();
    m.spans = result.acceptedSpans;
    m.elapsedMillis = result.elapsedMillis;
    m.firstMillis = result.firstAcceptMillis;
    m.clientCpuMicros = result.posterCpuMicros;
    m.jaegerCpuMicros = jaegerCpuMicros;
    m.brokerCpuMicros = brokerCpuMicros;
    m.requests = result.requests;
    if (result.failedRequests > 0) {
      m.problems.push(`${result.failedRequests} of ${result.requests} POSTs failed, first: ${result.firstError ?? ''}`);
    }
    await verifyStored(jaeger, ctx, m);
  } finally {
    await destroy();
  }
  return m;
}

// ------------------------------------------------------------------------------------------ report

const spansPerSecond = (m: Measurement): number => m.spans / (m.elapsedMillis / 1000);
/** The rate once the first span was stored: start-up (process, group join) left out. */
const steadySpansPerSecond = (m: Measurement): number => m.spans / ((m.elapsedMillis - m.firstMillis) / 1000);
/** CPU of the client, Jaeger and the broker over the window ÷ its wall time: near the core count = CPU-bound. */
const coresBusy = (m: Measurement): number =>
  ((m.clientCpuMicros ?? 0) + (m.jaegerCpuMicros ?? 0) + (m.brokerCpuMicros ?? 0)) / 1000 / m.elapsedMillis;
const perSpan = (micros: number | undefined, m: Measurement): number => (micros === undefined ? NaN : micros / m.spans);

function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');

/** Median over rounds, with the range when there is more than one round. */
function cell(values: number[], f: (n: number) => string): string {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length <= 1) return f(finite[0] ?? NaN);
  return `${f(Math.min(...finite))} · **${f(median(finite))}** · ${f(Math.max(...finite))}`;
}

/** `a / b` of a metric, paired per round (both saw about the same machine load). */
function paired(runs: Map<string, Measurement[]>, a: string, b: string, metric: (m: Measurement) => number): number[] {
  const ratios: number[] = [];
  for (const ma of runs.get(a) ?? []) {
    const mb = (runs.get(b) ?? []).find((m) => m.round === ma.round);
    if (mb) ratios.push(metric(ma) / metric(mb));
  }
  return ratios;
}

function verdict(values: number[], ok: (n: number) => boolean): string {
  const med = median(values);
  if (!Number.isFinite(med)) return '–';
  return ok(med) ? 'met' : '**missed**';
}

function contenderTable(
  defs: ContenderDef[],
  runs: Map<string, Measurement[]>,
  skipped: Map<string, string>,
): string[] {
  const out = [
    '| contender | runs | spans stored / on topic | drain s | spans/s | spans/s after first stored | forwarder (client) CPU µs/span | Jaeger CPU µs/span | client + Jaeger CPU µs/span | broker CPU µs/span | cores busy (all three) | requests |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const f2 = (n: number): string => fmt(n, 2);
  for (const def of defs) {
    const ms = runs.get(def.id) ?? [];
    if (ms.length === 0) {
      const why = skipped.get(def.id);
      if (why) out.push(`| ${def.label} | 0 | skipped: ${why} | | | | | | | | | |`);
      continue;
    }
    const counts = [...new Set(ms.map((m) => (m.stored ? fmtInt(m.stored.spans) : `${fmtInt(m.spans)} accepted`)))];
    const topic = fmtInt(ms[0]?.spans ?? NaN);
    out.push(
      [
        def.label,
        String(ms.length),
        `${counts.join(', ')} / ${topic}`,
        cell(
          ms.map((m) => m.elapsedMillis / 1000),
          f2,
        ),
        cell(ms.map(spansPerSecond), fmtInt),
        cell(ms.map(steadySpansPerSecond), fmtInt),
        def.kind === 'jaeger-kafka'
          ? 'n/a (in Jaeger)'
          : cell(
              ms.map((m) => perSpan(m.clientCpuMicros, m)),
              f2,
            ),
        cell(
          ms.map((m) => perSpan(m.jaegerCpuMicros, m)),
          f2,
        ),
        cell(
          ms.map((m) => perSpan((m.clientCpuMicros ?? 0) + (m.jaegerCpuMicros ?? 0), m)),
          f2,
        ),
        cell(
          ms.map((m) => perSpan(m.brokerCpuMicros, m)),
          f2,
        ),
        cell(ms.map(coresBusy), f2),
        cell(
          ms.map((m) => m.requests ?? NaN),
          fmtInt,
        ),
      ]
        .join(' | ')
        .replace(/^/, '| ')
        .concat(' |'),
    );
  }
  return out;
}

function report(
  defs: ContenderDef[],
  runs: Map<string, Measurement[]>,
  skipped: Map<string, string>,
  opts: Options,
): string {
  const out: string[] = contenderTable(defs, runs, skipped);
  out.push('');
  const f2 = (n: number): string => fmt(n, 2);
  const startupCpu = median([...runs.values()].flat().map((m) => m.jaegerStartupCpuMicros ?? NaN));
  const b = runs.get('jaeger-kafka') ?? [];
  if (b.length > 0 && Number.isFinite(startupCpu)) {
    const adjusted = b.map((m) => perSpan((m.jaegerCpuMicros ?? NaN) - startupCpu, m));
    out.push(
      `(b)'s Jaeger CPU includes the process's start-up: the other fresh Jaegers had used ${fmt(startupCpu / 1000, 0)} ms ` +
        `CPU (median) when ready; without it (b) is ≈ ${cell(adjusted, f2)} µs/span.`,
      '',
    );
  }

  const forwarderDefs = defs.filter((d) => d.kind === 'forwarder' && (runs.get(d.id)?.length ?? 0) > 0);
  if (forwarderDefs.length > 0) {
    out.push(
      'Forwarder process: CPU µs per span by thread, and event-loop delay (medians):',
      '',
      '| contender | JS main thread | librdkafka threads | other (GC, JIT, libuv) | event-loop delay p99 ms | max ms |',
      '|---|---:|---:|---:|---:|---:|',
    );
    for (const def of forwarderDefs) {
      const ms = runs.get(def.id) ?? [];
      const group = (g: string): string => f2(median(ms.map((m) => perSpan(m.threadCpuMicros?.[g] ?? 0, m))));
      const delay = (k: 'p99' | 'max'): string => fmt(median(ms.map((m) => m.eventLoopDelayMillis?.[k] ?? NaN)), 0);
      out.push(
        `| ${def.label} | ${group('main')} | ${group('librdkafka')} | ${group('other')} | ${delay('p99')} | ${delay('max')} |`,
      );
    }
    out.push('');
  }

  out.push('| target (ratios paired per round) | value | target | verdict |', '|---|---:|---|---|');
  if (runs.has('fwd-http') && runs.has('jaeger-kafka')) {
    const r = paired(runs, 'fwd-http', 'jaeger-kafka', spansPerSecond);
    const s = paired(runs, 'fwd-http', 'jaeger-kafka', steadySpansPerSecond);
    out.push(`| (a)/(b) drain rate | ${cell(r, f2)} | ≥ 1.0 | ${verdict(r, (n) => n >= 1)} |`);
    out.push(`| (a)/(b) rate after first stored | ${cell(s, f2)} | (≥ 1.0) | ${verdict(s, (n) => n >= 1)} |`);
  }
  if (runs.has('fwd-http') && runs.has('direct')) {
    const r = paired(runs, 'fwd-http', 'direct', spansPerSecond);
    const s = paired(runs, 'fwd-http', 'direct', steadySpansPerSecond);
    out.push(`| (a)/(d) drain rate | ${cell(r, f2)} | ≥ 0.95 | ${verdict(r, (n) => n >= 0.95)} |`);
    out.push(`| (a)/(d) rate after first stored | ${cell(s, f2)} | (≥ 0.95) | ${verdict(s, (n) => n >= 0.95)} |`);
  }
  const c = runs.get('fwd-discard') ?? [];
  if (c.length > 0) {
    const v = c.map((m) => perSpan(m.clientCpuMicros, m));
    // Issue 12: ≤ 0.3 µs/span for records of ~128 spans (what the exporter's partition grouping writes).
    const large = opts.tracesPerRecord * SPANS_PER_TRACE >= 100;
    out.push(
      large
        ? `| (c) forwarder CPU µs/span, large records | ${cell(v, f2)} | ≤ 0.3 | ${verdict(v, (n) => n <= 0.3)} |`
        : `| (c) forwarder CPU µs/span | ${cell(v, f2)} | | |`,
    );
    const rawFloor = paired(runs, 'fwd-discard', 'raw-consumer-floor', (m) => perSpan(m.clientCpuMicros, m));
    if (rawFloor.length > 0) {
      out.push(
        `| (c)/(c00) CPU per span, forwarder over bare consume(n) | ${cell(rawFloor, f2)} | ≤ 1.3 | ${verdict(rawFloor, (n) => n <= 1.3)} |`,
      );
    }
    const floor = runs.get('consumer-floor') ?? [];
    if (floor.length > 0) {
      const own = c
        .map((m) => {
          const f = floor.find((x) => x.round === m.round);
          return f ? perSpan(m.clientCpuMicros, m) - perSpan(f.clientCpuMicros, f) : NaN;
        })
        .filter((n) => Number.isFinite(n));
      out.push(`| (c) − (c0): the forwarder's own CPU over its Kafka client | ${cell(own, f2)} | | |`);
    }
  }
  out.push('');

  const variants = defs.filter(
    (d) => d.kind === 'forwarder' && d.sink === 'otlp-http' && d.id !== 'fwd-http' && runs.has(d.id),
  );
  if (variants.length > 0) {
    out.push(
      'Forwarder settings (OTLP/HTTP), paired per round:',
      '',
      '| variant | spans/s | vs (a) defaults | vs (b) | vs (d) | forwarder CPU µs/span |',
      '|---|---:|---:|---:|---:|---:|',
    );
    for (const def of variants) {
      const ms = runs.get(def.id) ?? [];
      out.push(
        `| ${def.label} | ${cell(ms.map(spansPerSecond), fmtInt)} | ${cell(paired(runs, def.id, 'fwd-http', spansPerSecond), f2)} | ` +
          `${cell(paired(runs, def.id, 'jaeger-kafka', spansPerSecond), f2)} | ${cell(paired(runs, def.id, 'direct', spansPerSecond), f2)} | ` +
          `${cell(
            ms.map((m) => perSpan(m.clientCpuMicros, m)),
            f2,
          )} |`,
      );
    }
    out.push('');
  }

  const noted = [...runs.values()].flat().filter((m) => m.notes.length > 0);
  if (noted.length > 0)
    out.push('Notes:', ...noted.map((m) => `- ${m.id} round ${m.round}: ${m.notes.join('; ')}`), '');
  const verified = [...runs.values()].flat().filter((m) => m.stored);
  const exact = verified.filter(
    (m) =>
      m.stored?.traces === m.spans / SPANS_PER_TRACE && m.stored.spans === m.spans && m.stored.duplicateSpans === 0,
  );
  const groups = [...runs.values()].flat().filter((m) => m.groupAtEnd !== undefined);
  if (verified.length > 0) {
    out.push(
      `Checks: ${exact.length} of ${verified.length} Jaeger runs held exactly the topic's traces and spans by query ` +
        `(no duplicates); ${groups.filter((m) => m.groupAtEnd).length} of ${groups.length} consumer groups ` +
        `committed up to the end offsets` +
        (b.length > 0
          ? `; (b)'s group reached the end offsets ${cell(
              b.map((m) => (m.committedMillis ?? NaN) / 1000),
              f2,
            )} s after its spawn`
          : '') +
        '.',
    );
  }
  out.push(
    '',
    `Settings: forwarder base ${JSON.stringify(opts.base)} (empty = the forwarder's defaults); (d) ${opts.directSpans} spans ` +
      `per request, ${opts.directConcurrency} in flight.`,
  );
  return out.join('\n');
}

// ------------------------------------------------------------------------------------------ main

function pidFromFile(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

const loadAverage = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2), process.env);
  const defs = CONTENDERS.filter((d) => (opts.only ? opts.only.includes(d.id) : opts.extras || !d.extra));
  const endpoints = stackEndpoints();
  process.once('SIGINT', () => {
    void cleanupAll().finally(() => process.exit(130));
  });
  let brokers: string[];
  let broker: KafkaBroker | undefined;
  if (opts.broker === 'dedicated') {
    const [port, controllerPort] = (await freePorts(2)) as [number, number];
    const dedicated = new KafkaBroker({
      name: `kafka-bench-fwd-${randomBytes(3).toString('hex')}`,
      port,
      controllerPort,
    });
    registerCleanup(() => dedicated.destroy());
    await dedicated.start();
    broker = dedicated;
    brokers = [dedicated.bootstrap];
  } else if (!endpoints.external) {
    await stackUp();
    broker = new KafkaBroker();
    brokers = [broker.bootstrap];
  } else {
    brokers = endpoints.kafkaBrokers;
  }

  console.log(
    `bench:forwarder — node ${process.version}, ${cpus().length} cores, load average ${loadAverage()}; ` +
      `${fmtInt(opts.spans)} spans, ${opts.rounds} round(s); kafka ${brokers.join(',')} (${opts.broker} broker); ` +
      `contenders ${defs.map((d) => d.id).join(', ')}`,
  );
  const admin = kafkaClient(brokers).admin();
  await admin.connect();
  registerCleanup(() => admin.disconnect());

  const prefill = await prefillTopic({
    brokers,
    admin,
    spans: opts.spans,
    partitions: PARTITIONS,
    tracesPerService: TRACES_PER_SERVICE,
    tracesPerRecord: opts.tracesPerRecord,
  });
  registerCleanup(() =>
    admin.deleteTopics({ topics: [prefill.topic] }).catch((err: unknown) => {
      console.error(`could not delete topic ${prefill.topic}: ${String(err)}`);
    }),
  );
  console.log(
    `prefill: ${fmtInt(prefill.traces.length)} traces, ${fmtInt(prefill.spans)} spans, ` +
      `${fmt(prefill.bytes / prefill.spans, 0)} B/span, ${fmt(prefill.bytes / 2 ** 20, 0)} MiB on ${prefill.topic} ` +
      `(records per partition ${prefill.partitions.map((p) => p.records).join('/')}); encoded in ` +
      `${fmt(prefill.encodeMillis / 1000, 1)} s, produced in ${fmt(prefill.produceMillis / 1000, 1)} s`,
  );
  // The first consumer group of a fresh broker waits for __consumer_offsets to be created (seconds): asking for a
  // group's offsets once creates it, so that no contender of round 1 pays for it in its drain time.
  const warmStart = performance.now();
  await admin.fetchOffsets({ groupId: `okj-bench-warmup-${process.pid}`, topics: [prefill.topic] });
  console.log(`group coordinator ready in ${fmt((performance.now() - warmStart) / 1000, 1)} s`);
  const ctx: RunContext = {
    opts,
    brokerPid: broker ? pidFromFile(join(broker.dir, 'pid')) : undefined,
    brokers,
    admin,
    prefill,
    bodies: makeBodies(
      prefill.records.map((r) => r.value),
      Math.max(1, Math.round(opts.directSpans / prefill.spansPerRecord)),
      prefill.spansPerRecord,
    ),
  };

  const skipped = new Map<string, string>();
  if (defs.some((d) => d.sink === 'jaeger-thrift')) {
    if (!existsSync(THRIFT_SINK_FILE)) skipped.set('fwd-thrift', 'src/sinks/jaeger-thrift-http-sink.ts does not exist');
  }
  const runs = new Map<string, Measurement[]>();
  const problems: string[] = [];
  const runnable = defs.filter((d) => !skipped.has(d.id));
  for (let round = 1; round <= opts.rounds; round++) {
    const order = runnable.map((_, i) => runnable[(i + round - 1) % runnable.length]).filter((d) => d !== undefined);
    for (const def of order) {
      console.log(`round ${round} ${def.id}: running (load average ${loadAverage()})`);
      let m: Measurement;
      try {
        m =
          def.kind === 'forwarder'
            ? await runForwarder(def, round, ctx)
            : def.kind === 'jaeger-kafka'
              ? await runJaegerKafka(def, round, ctx)
              : await runDirect(def, round, ctx);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        console.error(`  FAILED ${def.id} round ${round}: ${message}`);
        problems.push(`${def.id} round ${round}: ${message.split('\n')[0] ?? ''}`);
        continue;
      }
      (runs.get(def.id) ?? runs.set(def.id, []).get(def.id))?.push(m);
      console.log(
        `round ${round} ${def.id.padEnd(20)} ${fmtInt(spansPerSecond(m)).padStart(8)} spans/s ` +
          `(${fmtInt(steadySpansPerSecond(m))} after first stored) in ${fmt(m.elapsedMillis / 1000, 2)} s; ` +
          `client ${fmt(perSpan(m.clientCpuMicros, m), 2)} µs/span, Jaeger ${fmt(perSpan(m.jaegerCpuMicros, m), 2)} µs/span` +
          (m.stored ? `; Jaeger holds ${fmtInt(m.stored.traces)} traces / ${fmtInt(m.stored.spans)} spans` : ''),
      );
      for (const p of m.problems) {
        console.error(`  FAILED CHECK (${def.id}, round ${round}): ${p}`);
        problems.push(`${def.id} round ${round}: ${p}`);
      }
    }
  }
  await cleanupAll();
  console.log(`\nload average at the end: ${loadAverage()}\n`);
  console.log(report(defs, runs, skipped, opts));
  if (problems.length > 0) {
    console.error(`\nbench:forwarder FAILED:\n- ${problems.join('\n- ')}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    console.error(`bench:forwarder failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await cleanupAll();
    process.exit(1);
  },
);
