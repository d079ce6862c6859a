// Contender (d): the same encoded traces POSTed straight to Jaeger's OTLP/HTTP receiver, several requests at
// once, with no Kafka in between: how fast this Jaeger can store these spans at all (its ceiling, S_J).
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

/** One request body: encoded ExportTraceServiceRequests concatenated (one valid request). */
export interface DirectBody {
  body: Buffer;
  spans: number;
}

export interface DirectResult {
  requests: number;
  /** Spans in requests Jaeger answered 2xx. */
  acceptedSpans: number;
  failedRequests: number;
  firstError?: string;
  /** From the first request sent until the last response was read. */
  elapsedMillis: number;
  /** From the first request sent until the first 2xx was read. */
  firstAcceptMillis: number;
  /** CPU of this (the posting) process during the window, µs. */
  posterCpuMicros: number;
}

/** Concatenates consecutive records into bodies of `recordsPerBody` records. */
export function makeBodies(values: Buffer[], recordsPerBody: number, spansPerRecord: number): DirectBody[] {
  const bodies: DirectBody[] = [];
  for (let i = 0; i < values.length; i += recordsPerBody) {
    const chunk = values.slice(i, i + recordsPerBody);
    bodies.push({ body: Buffer.concat(chunk), spans: chunk.length * spansPerRecord });
  }
  return bodies;
}

function post(agent: Agent, url: URL, body: Buffer, timeoutMillis: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-protobuf', 'content-length': String(body.length) },
        timeout: timeoutMillis,
      },
      (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no response within ${timeoutMillis} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** POSTs every body with `concurrency` requests in flight (keep-alive connections), each one once. */
export async function postDirect(
  url: string,
  bodies: DirectBody[],
  concurrency: number,
  requestTimeoutMillis = 30_000,
): Promise<DirectResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(url);
  const result: DirectResult = {
    requests: 0,
    acceptedSpans: 0,
    failedRequests: 0,
    elapsedMillis: 0,
    firstAcceptMillis: NaN,
    posterCpuMicros: 0,
  };
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const worker = async (): Promise<void> => {
    for (let i = next++; i < bodies.length; i = next++) {
      const { body, spans } = bodies[i] ?? { body: Buffer.alloc(0), spans: 0 };
      result.requests += 1;
      try {
        const status = await post(agent, target, body, requestTimeoutMillis);
        if (status >= 200 && status < 300) {
          result.acceptedSpans += spans;
          if (Number.isNaN(result.firstAcceptMillis)) result.firstAcceptMillis = performance.now() - started;
        } else {
          result.failedRequests += 1;
          result.firstError ??= `HTTP ${status}`;
        }
      } catch (err) {
        result.failedRequests += 1;
        result.firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, () => worker()));
  } finally {
    agent.destroy();
  }
  result.elapsedMillis = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  result.posterCpuMicros = cpu.user + cpu.system;
  return result;
}
