// What the benchmark asks of a Jaeger: its pid (for CPU), whether one trace is stored yet (cheap, polled while
// Jaeger's own receiver drains), and how many traces and spans it stores in all (the final verification).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { JaegerInstance } from '../../scripts/stack/stack';
import type { ServiceShare } from './prefill';

/** The pid of a Jaeger the stack scripts started, from its pid file. */
export function jaegerPid(jaeger: JaegerInstance): number {
  const pid = Number(readFileSync(join(jaeger.dir, 'pid'), 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid for Jaeger ${jaeger.name}`);
  return pid;
}

/** True when Jaeger returns the trace (`GET /api/v3/traces/{id}`); false on 404 or while it is not up yet. */
export async function traceStored(queryUrl: string, traceId: string, timeoutMillis = 2_000): Promise<boolean> {
  try {
    const res = await fetch(`${queryUrl}/api/v3/traces/${traceId}?raw_traces=true`, {
      signal: AbortSignal.timeout(timeoutMillis),
    });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

interface LegacySpan {
  traceID: string;
  spanID: string;
}

interface LegacyTracesResponse {
  data: { traceID: string; spans: LegacySpan[] }[] | null;
  errors?: unknown[] | null;
}

export interface StoredCount {
  traces: number;
  /** Distinct (trace id, span id) pairs. */
  spans: number;
  /** Spans returned beyond the distinct ones (a redelivered trace stored twice). */
  duplicateSpans: number;
  /** Traces per service that differ from what was produced: `name: stored/produced`. */
  mismatches: string[];
  queryMillis: number;
}

/**
 * Counts what Jaeger stores, one service at a time (`GET /api/traces?service=S&limit=N&start=..&end=..`, the
 * legacy search API; its memory storage scans its whole store for each query). `limit` is a little above the
 * produced count so extra traces would show. Bounded: each query gets `timeoutMillis`.
 */
export async function countStored(
  queryUrl: string,
  services: ServiceShare[],
  window: { startMillis: number; endMillis: number },
  timeoutMillis = 120_000,
): Promise<StoredCount> {
  const started = performance.now();
  const count: StoredCount = { traces: 0, spans: 0, duplicateSpans: 0, mismatches: [], queryMillis: 0 };
  for (const service of services) {
    const params = new URLSearchParams({
      service: service.name,
      limit: String(service.traces + 100),
      start: String(window.startMillis * 1_000),
      end: String(window.endMillis * 1_000),
    });
    const res = await fetch(`${queryUrl}/api/traces?${params.toString()}`, {
      signal: AbortSignal.timeout(timeoutMillis),
    });
    if (!res.ok) throw new Error(`Jaeger query for ${service.name} answered ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as LegacyTracesResponse;
    const traces = body.data ?? [];
    const seen = new Set<string>();
    let returned = 0;
    for (const trace of traces) {
      for (const span of trace.spans) {
        returned += 1;
        seen.add(`${span.traceID}/${span.spanID}`);
      }
    }
    count.traces += traces.length;
    count.spans += seen.size;
    count.duplicateSpans += returned - seen.size;
    if (traces.length !== service.traces) count.mismatches.push(`${service.name}: ${traces.length}/${service.traces}`);
  }
  count.queryMillis = performance.now() - started;
  return count;
}
