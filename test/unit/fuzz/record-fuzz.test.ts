// Fuzz test of issue 10's "Done when": generated hostile records through deliverBatch (the delivery layer the
// live forwarder and replay share) with every built-in sink, against in-process receivers that read what they
// get with a reference decoder. For every input: nothing but our own errors, no call over 3 s, bounded and
// escaped messages, and every record either delivered intact or undeliverable with a reason — never a
// non-empty record accepted with 0 spans. The labels in a failure report:
//   (a) only OtelKafkaJaegerErrors surface: from deliverBatch, from a sink, or as an unhandled rejection;
//   (b) every deliverBatch and sink.send call ends within 1 s;
//   (c) every error message and log text is at most 4,096 characters, with no control character but \n and \t;
//   (d) every record ends exactly once, accepted or undeliverable with a non-empty reason;
//   (e) accepted ⇒ the reference reads the record as N > 0 spans and the receiver got exactly those;
//   (f) a request the SDK serializer wrote, under a content type naming its encoding (or none, or ''), is
//       delivered (no false dead letters);
//   (g) no record ends as RETRIES_EXHAUSTED while the receiver never answered a retriable status.
//
// Reproduce: OKJ_FUZZ_SEED=<seed> (default below) and OKJ_FUZZ_ONLY=<generator>[:<index>] to run a subset.
import { createNoopMeter } from '@opentelemetry/api';

import { OtelKafkaJaegerError } from '../../../src/errors/errors';
import { deliverBatch } from '../../../src/forwarder/delivery';
import type { DeliverableRecord, DeliveryContext } from '../../../src/forwarder/delivery';
import { ForwarderMetrics } from '../../../src/forwarder/forwarder-metrics';
import type { Logger } from '../../../src/logging/logger';
import { fixedDelay } from '../../../src/retry/fixed-delay';
import { recordContentType } from '../../../src/serializers/record-content';
import { jaegerThriftHttpSink } from '../../../src/sinks/jaeger-thrift-http-sink';
import { otlpGrpcSink } from '../../../src/sinks/otlp-grpc-sink';
import { otlpHttpSink } from '../../../src/sinks/otlp-http-sink';
import type { Sink } from '../../../src/sinks/sink';
import { generateCases } from './generators';
import type { FuzzCase, FuzzRecord } from './generators';
import { verdictOf } from './reference-decoder';
import type { Verdict } from './reference-decoder';
import { Tally, startStubReceivers } from './stub-receivers';
import type { StubReceivers } from './stub-receivers';

const SEED = Number(process.env.OKJ_FUZZ_SEED ?? 0x0c0ffee1);
const ONLY = process.env.OKJ_FUZZ_ONLY;
const MIN_INPUTS = 10_000;
/**
 * The longest one call may take. A call is over it only when both its elapsed time and the process's CPU time
 * during it are: elapsed time alone measures the neighbours (CI shares two cores with a Kafka broker and a
 * Jaeger), and process CPU alone counts other threads too (librdkafka's, left by earlier test files in the
 * same worker). Either way it also counts the stub receiver's reference decoding: stricter than our cost.
 * 3 s: the slowest inputs (the `giant-repeated` ones: 0.2 MB converted to OTLP/JSON, 1 MB to Thrift) took
 * 0.7 s of CPU on stop 10's machine and 1.0-1.5 s on stop 13's, late in the run with the heap grown (alone:
 * well under 1 s); the limit is there to catch a hang or a superlinear blow-up, with room for a slower machine.
 */
const MAX_CALL_MILLIS = 3_000;
/** A call still running after this is abandoned (its signal aborted) and reported as hung. */
const HANG_MILLIS = 5_000;
const MAX_MESSAGE_CHARS = 4_096;
/** Control characters other than newline and tab, C1 controls included (0x9b is a terminal CSI). */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

interface SinkUnderTest {
  readonly label: string;
  /**
   * Runs every case of generators with few cases, every `sampleEvery`-th of the others: the two OTLP/HTTP
   * encodings see every input, the slower gRPC and Thrift paths a deterministic part of the bulk.
   */
  readonly sampleEvery: number;
  /** Whether the receiver reports the spans it accepted (the OTLP ones), so delivery can be checked exactly. */
  readonly checksSpans: boolean;
  make(stubs: StubReceivers): Sink;
}

const SINKS: SinkUnderTest[] = [
  {
    label: 'otlp-http/protobuf',
    sampleEvery: 1,
    checksSpans: true,
    make: (s) => otlpHttpSink({ url: s.otlpHttpUrl, encoding: 'protobuf', timeoutMillis: HANG_MILLIS }),
  },
  {
    label: 'otlp-http/json',
    sampleEvery: 1,
    checksSpans: true,
    make: (s) => otlpHttpSink({ url: s.otlpHttpUrl, encoding: 'json', timeoutMillis: HANG_MILLIS }),
  },
  {
    label: 'jaeger-thrift-http',
    sampleEvery: 4,
    checksSpans: false,
    make: (s) => jaegerThriftHttpSink({ url: s.thriftUrl, timeoutMillis: HANG_MILLIS }),
  },
  {
    label: 'otlp-grpc',
    sampleEvery: 4,
    checksSpans: true,
    make: (s) => otlpGrpcSink({ url: s.grpcUrl, timeoutMillis: HANG_MILLIS }),
  },
];

interface TestRecord extends DeliverableRecord {
  readonly fuzz: FuzzRecord;
  readonly position: number;
  readonly verdict: Verdict;
  readonly outcomes: ({ kind: 'accepted' } | { kind: 'undeliverable'; error: OtelKafkaJaegerError })[];
}

interface Failure {
  readonly assertion: string;
  readonly sink: string;
  readonly generator: string;
  readonly index: number;
  readonly record: number | undefined;
  readonly detail: string;
  readonly excerpt: string;
}

function excerpt(value: Buffer): string {
  const head = value.subarray(0, 48).toString('hex');
  return `${value.length} bytes: ${head}${value.length > 48 ? '…' : ''}`;
}

function show(text: string, max = 160): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** Why `text` may not be an error message or log text, or undefined when it may. */
function badMessage(text: string): string | undefined {
  if (text.length > MAX_MESSAGE_CHARS) return `${text.length} characters`;
  const control = RAW_CONTROL.exec(text);
  if (control) return `raw control character 0x${control[0].charCodeAt(0).toString(16)} at ${control.index}`;
  return undefined;
}

function sorted(keys: readonly string[]): string[] {
  return [...keys].sort();
}

class Results {
  readonly failures: Failure[] = [];
  readonly failureCounts = new Map<string, number>();
  readonly outcomes = new Map<string, Map<string, number>>();
  readonly inputs = new Map<string, number>();
  slowest = { millis: 0, where: '' };
  calls = 0;
  readonly millisBySink = new Map<string, number>();
  readonly millisByGenerator = new Map<string, number>();

  fail(f: Failure): void {
    const key = `${f.assertion} | ${f.generator} | ${f.sink}`;
    const n = this.failureCounts.get(key) ?? 0;
    this.failureCounts.set(key, n + 1);
    // The first few of each kind are enough to reproduce it.
    if (n < 2) this.failures.push(f);
  }

  count(generator: string, outcome: string): void {
    const byOutcome = this.outcomes.get(generator) ?? new Map<string, number>();
    byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
    this.outcomes.set(generator, byOutcome);
  }

  summary(): string {
    const lines = [`record fuzz: seed 0x${SEED.toString(16)}, ${this.calls} deliverBatch calls`];
    lines.push(`slowest call: ${this.slowest.millis.toFixed(0)} ms (${this.slowest.where})`);
    lines.push(
      `time per sink: ${[...this.millisBySink].map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')}`,
    );
    for (const [generator, byOutcome] of this.outcomes) {
      const parts = [...byOutcome].map(([k, v]) => `${k} ${v}`).join(', ');
      const seconds = ((this.millisByGenerator.get(generator) ?? 0) / 1000).toFixed(1);
      lines.push(`  ${generator} (${this.inputs.get(generator) ?? 0} inputs, ${seconds} s): ${parts}`);
    }
    if (this.failureCounts.size > 0) {
      lines.push('FAILURES (assertion | generator | sink: count):');
      for (const [key, n] of [...this.failureCounts].sort()) lines.push(`  ${key}: ${n}`);
      lines.push('first examples (reproduce with OKJ_FUZZ_SEED and OKJ_FUZZ_ONLY=<generator>:<index>):');
      for (const f of this.failures) {
        lines.push(
          `  [${f.assertion}] ${f.sink} ${f.generator}:${f.index}` +
            `${f.record === undefined ? '' : ` record ${f.record}`}: ${f.detail}\n      ${f.excerpt}`,
        );
      }
    }
    return lines.join('\n');
  }
}

function selected(c: FuzzCase): boolean {
  if (ONLY === undefined || ONLY === '') return true;
  const [generator, index] = ONLY.split(':');
  return c.generator === generator && (index === undefined || Number(index) === c.index);
}

describe('record fuzz: deliverBatch with every built-in sink', () => {
  let stubs: StubReceivers;
  const sinks = new Map<string, Sink>();
  const results = new Results();
  const unhandled: unknown[] = [];
  /** The reference's verdict on each record, computed once for all sinks. */
  const verdicts = new WeakMap<FuzzRecord, Verdict>();
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeAll(async () => {
    stubs = await startStubReceivers();
    for (const s of SINKS) sinks.set(s.label, s.make(stubs));
    process.on('unhandledRejection', onUnhandled);
  });

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    for (const sink of sinks.values()) await sink.close();
    await stubs?.close();
  });

  /** Runs one group of records (one content type, as the forwarder batches) through one sink. */
  async function run(c: FuzzCase, group: FuzzRecord[], positions: number[], sut: SinkUnderTest): Promise<void> {
    const fail = (assertion: string, detail: string, record?: TestRecord): void =>
      results.fail({
        assertion,
        sink: sut.label,
        generator: c.generator,
        index: c.index,
        record: record?.position,
        detail,
        excerpt: excerpt(record?.fuzz.value ?? group[0]!.value),
      });
    const checkMessage = (where: string, text: string, record?: TestRecord): void => {
      const bad = badMessage(text);
      if (bad) fail('(c) message too long or not escaped', `${where}: ${bad}: ${show(text)}`, record);
    };
    const checkError = (where: string, err: unknown, record?: TestRecord): void => {
      if (!(err instanceof OtelKafkaJaegerError)) {
        fail('(a) non-library exception', `${where}: ${String(err).slice(0, 300)}`, record);
      }
      checkMessage(where, err instanceof Error ? err.message : String(err), record);
    };

    const records: TestRecord[] = group.map((fuzz, i) => {
      const contentType = recordContentType(fuzz.headers, fuzz.value);
      let verdict = verdicts.get(fuzz);
      if (verdict === undefined) {
        verdict = verdictOf(fuzz.value, contentType);
        verdicts.set(fuzz, verdict);
      }
      return { fuzz, position: positions[i]!, value: fuzz.value, contentType, verdict, outcomes: [] };
    });
    const tally = new Tally();
    stubs.tally = tally;
    const abort = new AbortController();
    const inner = sinks.get(sut.label)!;
    // The sink is watched too: deliverBatch turns whatever a sink throws into a SinkError, which would hide it.
    const sink: Sink = {
      name: inner.name,
      close: () => inner.close(),
      send: async (batch, options) => {
        const started = performance.now();
        const cpuBefore = process.cpuUsage();
        try {
          return await inner.send(batch, options);
        } catch (err) {
          checkError('sink.send rejected', err);
          throw err;
        } finally {
          const cpuMillis = cpuMillisSince(cpuBefore);
          const millis = performance.now() - started;
          if (Math.min(cpuMillis, millis) > MAX_CALL_MILLIS) {
            fail(
              '(b) call over 3 s',
              `sink.send took ${cpuMillis.toFixed(0)} ms of CPU (${millis.toFixed(0)} ms elapsed)`,
            );
          }
        }
      },
    };
    const logText = (level: string) => (message: string, attributes?: Record<string, unknown>) => {
      checkMessage(`logger.${level} message`, message);
      for (const [key, value] of Object.entries(attributes ?? {})) {
        if (typeof value === 'string') checkMessage(`logger.${level} ${key}`, value);
        else if (value instanceof Error) checkMessage(`logger.${level} ${key}`, value.message);
      }
    };
    const logger: Logger = {
      debug: logText('debug'),
      info: logText('info'),
      warn: logText('warn'),
      error: logText('error'),
    };
    const ctx: DeliveryContext<TestRecord> = {
      sink,
      // Fast and bounded, so a record retried for its own fault ends as RETRIES_EXHAUSTED instead of hanging.
      retry: fixedDelay(1, { maxAttempts: 3 }),
      signal: abort.signal,
      metrics: new ForwarderMetrics(createNoopMeter(), () => []),
      logger,
      isLive: () => true,
      block: (_batch, error) => {
        checkError('block (health lastError)', error);
        return () => undefined;
      },
      stillFailing: (_batch, error) => checkError('stillFailing (health lastError)', error),
      accepted: (batch) => {
        for (const r of batch) r.outcomes.push({ kind: 'accepted' });
      },
      undeliverable: (record, error) => {
        checkError('undeliverable reason', error, record);
        record.outcomes.push({ kind: 'undeliverable', error });
        return Promise.resolve();
      },
    };

    results.calls++;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    let timer: NodeJS.Timeout | undefined;
    const delivery = deliverBatch(records, ctx).then(
      () => 'done' as const,
      (err: unknown) => ({ thrown: err }),
    );
    const outcome = await Promise.race([
      delivery,
      new Promise<'hung'>((resolve) => {
        timer = setTimeout(() => resolve('hung'), HANG_MILLIS);
      }),
    ]);
    clearTimeout(timer);
    const millis = performance.now() - started;
    results.millisBySink.set(sut.label, (results.millisBySink.get(sut.label) ?? 0) + millis);
    results.millisByGenerator.set(c.generator, (results.millisByGenerator.get(c.generator) ?? 0) + millis);
    if (millis > results.slowest.millis) {
      results.slowest = { millis, where: `${sut.label} ${c.generator}:${c.index}, ${excerpt(group[0]!.value)}` };
    }
    if (outcome === 'hung') {
      abort.abort();
      fail('(b) call over 3 s', `deliverBatch still running after ${HANG_MILLIS} ms; aborted`);
      // An abort should end it at once; if even that does not, the next cases still run.
      await Promise.race([delivery, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      return;
    }
    const cpuMillis = cpuMillisSince(cpuBefore);
    if (Math.min(cpuMillis, millis) > MAX_CALL_MILLIS) {
      fail(
        '(b) call over 3 s',
        `deliverBatch took ${cpuMillis.toFixed(0)} ms of CPU (${millis.toFixed(0)} ms elapsed)`,
      );
    }
    if (outcome !== 'done') checkError('deliverBatch threw', outcome.thrown);

    const acceptedSpans: string[] = [];
    for (const r of records) {
      if (r.outcomes.length !== 1) {
        fail(
          '(d) not settled exactly once',
          `${r.outcomes.length} outcomes: ${r.outcomes.map((o) => o.kind).join(',')}`,
          r,
        );
        continue;
      }
      const o = r.outcomes[0]!;
      const spans = r.verdict.ok ? r.verdict.spans.length : 0;
      if (o.kind === 'undeliverable') {
        const code = o.error.code;
        results.count(c.generator, `undeliverable ${code}`);
        if (r.verdict.ok && spans > 0) results.count(c.generator, '(info: reference-valid but undeliverable)');
        if (o.error.message.trim() === '') fail('(d) undeliverable without a reason', `code ${code}`, r);
        if (code === 'RETRIES_EXHAUSTED' && tally.retriableAnswers === 0) {
          fail('(g) retried while the receiver was healthy', o.error.message.slice(0, 200), r);
        }
        if (r.fuzz.mustDeliver) {
          fail(
            '(f) valid record dead-lettered',
            `content type ${show(r.contentType)}: ${o.error.message.slice(0, 200)}`,
            r,
          );
        }
        continue;
      }
      results.count(c.generator, 'accepted');
      if (!r.verdict.ok) {
        fail('(e) accepted but the reference cannot decode it', r.verdict.reason.slice(0, 200), r);
      } else if (spans === 0) {
        fail('(e) non-empty record accepted with 0 spans', `content type ${show(r.contentType)}`, r);
      } else {
        acceptedSpans.push(...r.verdict.spans);
      }
    }
    if (sut.checksSpans) {
      const want = sorted(acceptedSpans);
      const got = sorted(tally.accepted);
      if (want.join() !== got.join()) {
        const missing = want.filter((k) => !got.includes(k)).length;
        const extra = got.filter((k) => !want.includes(k)).length;
        fail(
          '(e) receiver did not get exactly the accepted spans',
          `expected ${want.length} spans, receiver accepted ${got.length} (${missing} missing, ${extra} unexpected)`,
        );
      }
    }
  }

  it(`delivers every valid record intact and dead-letters every other one, with a reason (seed ${SEED})`, async () => {
    const cases = generateCases(SEED).filter(selected);
    for (const c of cases) results.inputs.set(c.generator, (results.inputs.get(c.generator) ?? 0) + 1);
    if (ONLY === undefined) expect(cases.length).toBeGreaterThanOrEqual(MIN_INPUTS);

    for (const c of cases) {
      // The forwarder batches records of one content type only.
      const groups = new Map<string, { records: FuzzRecord[]; positions: number[] }>();
      c.records.forEach((r, position) => {
        const type = recordContentType(r.headers, r.value);
        const g = groups.get(type) ?? { records: [], positions: [] };
        g.records.push(r);
        g.positions.push(position);
        groups.set(type, g);
      });
      for (const sut of SINKS) {
        if ((results.inputs.get(c.generator) ?? 0) > 500 && c.index % sut.sampleEvery !== 0) continue;
        for (const g of groups.values()) await run(c, g.records, g.positions, sut);
      }
    }
    for (const reason of unhandled) {
      results.fail({
        assertion: '(a) unhandled rejection',
        sink: '-',
        generator: '-',
        index: -1,
        record: undefined,
        detail: String(reason).slice(0, 300),
        excerpt: '',
      });
    }

    const summary = results.summary();
    process.stdout.write(`${summary}\n`);
    expect(results.failureCounts.size === 0 ? 'no failures' : summary).toBe('no failures');
  });
});

function cpuMillisSince(before: NodeJS.CpuUsage): number {
  const cpu = process.cpuUsage(before);
  return (cpu.user + cpu.system) / 1000;
}
