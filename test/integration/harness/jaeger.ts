// Jaeger helpers: POST OTLP, and poll the query API for a trace until it holds the expected spans.
import { setTimeout as delay } from 'node:timers/promises';

import { endpoints } from './stack';

/** One span of a trace as Jaeger's `/api/v3/traces/{id}` returns it (OTLP JSON, ids in hex). */
export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  attributes?: { key: string; value: Record<string, unknown> }[];
  events?: { name: string }[];
  status?: { code?: number; message?: string };
  serviceName?: string;
}

/**
 * All spans Jaeger stores for `traceId` (hex), or [] when it knows no such trace: raw, as stored, so a span
 * stored twice comes back twice.
 *
 * @remarks
 * Without `raw_traces=true` the query service runs its adjusters over the trace, and `DeduplicateSpans`
 * drops identical copies of a span: duplicates would be invisible to every count made from the result.
 * Parameter names from Jaeger v1.76.0 `cmd/query/app/apiv3/http_gateway.go` (`raw_traces` for
 * `/api/v3/traces/{id}`, `query.raw_traces` for the search `/api/v3/traces`); the legacy `/api/traces`
 * takes `raw` (`cmd/query/app/query_parser.go`). Worse than hiding them: the memory storage hands out the
 * trace it holds and the v3 adjusters work in place, so one non-raw `/api/v3` read of a trace deletes its
 * stored copies for good (seen on v1.76.0; the legacy `/api/traces` adjusts a converted copy). Badger keys
 * a span by trace id, start time and span id, so there an identical copy overwrites the first anyway.
 */
export async function getTrace(traceId: string, queryUrl = endpoints.jaegerQueryUrl): Promise<StoredSpan[]> {
  const res = await fetch(`${queryUrl}/api/v3/traces/${traceId}?raw_traces=true`, {
    signal: AbortSignal.timeout(5_000),
  });
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`GET /api/v3/traces/${traceId}: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as {
    result?: {
      resourceSpans?: {
        resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
        scopeSpans?: { spans?: StoredSpan[] }[];
      }[];
    };
  };
  const spans: StoredSpan[] = [];
  for (const rs of body.result?.resourceSpans ?? []) {
    const serviceName = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue;
    for (const ss of rs.scopeSpans ?? []) for (const span of ss.spans ?? []) spans.push({ ...span, serviceName });
  }
  return spans;
}

/**
 * Polls Jaeger until `traceId` holds at least `spanCount` distinct span ids; fails after `timeoutMillis`
 * with how many it saw.
 */
export async function waitForTrace(
  traceId: string,
  opts: { spanCount?: number; timeoutMillis?: number; queryUrl?: string } = {},
): Promise<StoredSpan[]> {
  const spanCount = opts.spanCount ?? 1;
  const timeoutMillis = opts.timeoutMillis ?? 30_000;
  const deadline = Date.now() + timeoutMillis;
  let seen = 0;
  for (;;) {
    const spans = await getTrace(traceId, opts.queryUrl);
    seen = new Set(spans.map((s) => s.spanId)).size;
    if (seen >= spanCount) return spans;
    if (Date.now() >= deadline) {
      throw new Error(`waitForTrace(${traceId}): ${seen} of ${spanCount} spans within ${timeoutMillis} ms`);
    }
    await delay(100);
  }
}

/** POSTs an OTLP protobuf body; resolves with the HTTP status, rejects when the connection fails. */
export async function postOtlpProto(body: Uint8Array, url = endpoints.jaegerOtlpHttpUrl): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  return res.status;
}
