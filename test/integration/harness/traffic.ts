// Span-id accounting: traces produced to a topic (what was exported) against what Jaeger returns.
import { setTimeout as delay } from 'node:timers/promises';

import { context, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

import { consumeRaw, endOffsets, produceRaw } from './kafka';
import type { RawRecord } from './kafka';
import { decodeSpanIdentities } from './otlp';
import { endpoints } from './stack';

/** Span ids by trace id. */
export type SpanLedger = Map<string, Set<string>>;

/** Ends `traces` traces of `spansPerTrace` spans for `service` (STACK.md's shape: 10 attributes of 20 chars). */
export function makeTraces(service: string, traces: number, spansPerTrace = 5): ReadableSpan[][] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('okj-traffic');
  const attributes: Record<string, string> = {};
  for (let i = 0; i < 10; i++) attributes[`attr.${i}`] = 'v'.repeat(19) + String(i);
  const out: ReadableSpan[][] = [];
  for (let t = 0; t < traces; t++) {
    exporter.reset();
    const root = tracer.startSpan(`op-${t}`, { attributes });
    const ctx = trace.setSpan(context.active(), root);
    for (let i = 1; i < spansPerTrace; i++) tracer.startSpan(`step-${i}`, { attributes }, ctx).end();
    root.end();
    out.push(exporter.getFinishedSpans());
  }
  return out;
}

/** One record per trace, keyed by trace id, as KafkaSpanExporter writes them. */
export function traceRecords(traces: ReadableSpan[][]): RawRecord[] {
  return traces.map((spans) => ({
    key: spans[0]!.spanContext().traceId,
    value: Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!),
    headers: { 'content-type': 'application/x-protobuf', 'otelcol.signal': 'traces' },
  }));
}

export function ledgerOf(traces: ReadableSpan[][]): SpanLedger {
  const ledger: SpanLedger = new Map();
  for (const spans of traces) {
    for (const s of spans) {
      const ctx = s.spanContext();
      let set = ledger.get(ctx.traceId);
      if (!set) ledger.set(ctx.traceId, (set = new Set()));
      set.add(ctx.spanId);
    }
  }
  return ledger;
}

export function mergeLedgers(...ledgers: SpanLedger[]): SpanLedger {
  const out: SpanLedger = new Map();
  for (const l of ledgers) for (const [t, ids] of l) out.set(t, new Set([...(out.get(t) ?? []), ...ids]));
  return out;
}

export function spanCount(ledger: SpanLedger): number {
  let n = 0;
  for (const ids of ledger.values()) n += ids.size;
  return n;
}

/** Produces `traces` traces for `service` to `topic` in chunks; returns what was exported. */
export async function produceTraces(
  topic: string,
  service: string,
  traces: number,
  opts: { chunk?: number; spansPerTrace?: number } = {},
): Promise<SpanLedger> {
  const chunk = opts.chunk ?? 500;
  const ledgers: SpanLedger[] = [];
  for (let i = 0; i < traces; i += chunk) {
    const batch = makeTraces(service, Math.min(chunk, traces - i), opts.spansPerTrace);
    await produceRaw(topic, traceRecords(batch));
    ledgers.push(ledgerOf(batch));
  }
  return mergeLedgers(...ledgers);
}

export interface JaegerAccount {
  /** Distinct span ids found per trace. */
  found: SpanLedger;
  /** Expected span ids Jaeger does not have. */
  missing: number;
  /** Extra copies Jaeger returned of a span (same trace and span id): a span stored twice counts 1. */
  duplicates: number;
  /** Distinct spans Jaeger has that were never expected. */
  unexpected: number;
}

/**
 * What Jaeger stores for `service`: every span of every trace (legacy search API, one call), raw.
 *
 * @remarks
 * `raw=true` (Jaeger v1.76.0 `cmd/query/app/query_parser.go`, `rawParam`) skips the query service's
 * adjusters; without it `DedupeBySpanHash` merges identical copies of a span and `duplicates` could never
 * be anything but 0. A span id returned n times counts n - 1 duplicates.
 */
export async function accountInJaeger(
  expected: SpanLedger,
  service: string,
  queryUrl = endpoints.jaegerQueryUrl,
): Promise<JaegerAccount> {
  const url =
    `${queryUrl}/api/traces?service=${encodeURIComponent(service)}` +
    `&limit=${expected.size * 2 + 100}&lookback=6h&raw=true`;
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  const found: SpanLedger = new Map();
  let duplicates = 0;
  let unexpected = 0;
  if (res.ok) {
    const body = (await res.json()) as { data?: { traceID: string; spans: { spanID: string }[] }[] };
    for (const t of body.data ?? []) {
      const traceId = t.traceID.padStart(32, '0');
      const set = found.get(traceId) ?? new Set<string>();
      found.set(traceId, set);
      for (const s of t.spans) {
        const spanId = s.spanID.padStart(16, '0');
        if (set.has(spanId)) {
          duplicates++;
          continue;
        }
        set.add(spanId);
        if (!expected.get(traceId)?.has(spanId)) unexpected++;
      }
    }
  } else if (res.status !== 404) {
    throw new Error(`GET ${url}: HTTP ${res.status}`);
  }
  let missing = 0;
  for (const [traceId, ids] of expected) {
    const got = found.get(traceId);
    for (const id of ids) if (!got?.has(id)) missing++;
  }
  return { found, missing, duplicates, unexpected };
}

/** Polls Jaeger until every expected span is there (or fails after `timeoutMillis` with the account). */
export async function waitForAllSpans(
  expected: SpanLedger,
  service: string,
  opts: { queryUrl?: string; timeoutMillis?: number } = {},
): Promise<JaegerAccount> {
  const deadline = Date.now() + (opts.timeoutMillis ?? 60_000);
  for (;;) {
    const account = await accountInJaeger(expected, service, opts.queryUrl);
    if (account.missing === 0) return account;
    if (Date.now() > deadline) {
      throw new Error(
        `Jaeger is missing ${account.missing} of ${spanCount(expected)} spans for ${service} ` +
          `(duplicates ${account.duplicates}, unexpected ${account.unexpected})`,
      );
    }
    await delay(250);
  }
}

/**
 * Every span a topic holds, read back from the beginning to the end offsets at call time (a fresh group,
 * nothing committed) and decoded with {@link decodeSpanIdentities}: what was exported, exactly, for a
 * producer that has stopped. Fails on a record that is not OTLP protobuf.
 */
export async function ledgerOfTopic(topic: string): Promise<{ ledger: SpanLedger; names: Map<string, string[]> }> {
  const ends = await endOffsets(topic);
  const total = [...ends.values()].reduce((a, b) => a + b, 0);
  const records = total === 0 ? [] : await consumeRaw(topic, total);
  const ledger: SpanLedger = new Map();
  const names = new Map<string, string[]>();
  for (const r of records) {
    expect(r.headers['content-type']?.toString()).toBe('application/x-protobuf');
    for (const s of decodeSpanIdentities(r.value ?? Buffer.alloc(0))) {
      let ids = ledger.get(s.traceId);
      if (!ids) ledger.set(s.traceId, (ids = new Set()));
      ids.add(s.spanId);
      names.set(s.traceId, [...(names.get(s.traceId) ?? []), s.name]);
    }
  }
  return { ledger, names };
}
