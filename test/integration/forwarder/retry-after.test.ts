// Retry-After honoured end to end: a real HTTP proxy in front of the real Jaeger answers the first requests
// with 503 and `Retry-After: 3`, then forwards. The forwarder's own backoff is ~20 ms, so only the header can
// explain a 3 s pause between a 503 and the next attempt at the same batch (timestamps taken at the proxy).
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { createTopic } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { endpoints } from '../harness/stack';
import { produceTraces, waitForAllSpans } from '../harness/traffic';
import { forwarderConfig, startForwarder, waitForCommitsAtEnd } from './helpers';

const RETRY_AFTER_SECONDS = 3;
const REJECTED_REQUESTS = 2;

interface ProxiedRequest {
  /** sha256 of the body: the same batch sent again has the same body. */
  body: string;
  receivedAt: number;
  /** When the proxy finished answering. */
  answeredAt: number;
  status: number;
}

/** Answers the first `rejectFirst` requests 503 + Retry-After, and forwards every later one to `target`. */
async function retryAfterProxy(
  target: string,
  rejectFirst: number,
): Promise<{ url: string; log: ProxiedRequest[]; server: Server }> {
  const log: ProxiedRequest[] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const receivedAt = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const entry: ProxiedRequest = {
      body: createHash('sha256').update(body).digest('hex'),
      receivedAt,
      answeredAt: 0,
      status: 0,
    };
    log.push(entry);
    if (log.length <= rejectFirst) {
      entry.status = 503;
      res.writeHead(503, { 'retry-after': String(RETRY_AFTER_SECONDS), 'content-type': 'text/plain' });
      res.end('overloaded, come back later');
    } else {
      const upstream = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      entry.status = upstream.status;
      const answer = Buffer.from(await upstream.arrayBuffer());
      res.writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream',
      });
      res.end(answer);
    }
    entry.answeredAt = Date.now();
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(502).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/traces`, log, server };
}

describe('forwarder: Retry-After from the sink', () => {
  let server: Server | undefined;

  afterAll(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  it('waits the Retry-After the server asked for (not its own short backoff), then delivers everything once', async () => {
    const proxy = await retryAfterProxy(endpoints.jaegerOtlpHttpUrl, REJECTED_REQUESTS);
    server = proxy.server;
    const topic = await createTopic({ partitions: 2 });
    const service = uniqueName('retry-after');
    const expected = await produceTraces(topic, service, 300);
    const config = forwarderConfig(topic, { sinkUrl: proxy.url });
    // Its own delay: ~20 ms every time (multiplier 1); maxDelayMillis only caps what Retry-After may ask for.
    config.retry = { initialDelayMillis: 20, multiplier: 1, maxDelayMillis: 10_000, jitter: 0.2 };
    await startForwarder(config);

    const account = await waitForAllSpans(expected, service, { timeoutMillis: 60_000 });
    await waitForCommitsAtEnd(config.forwarder!.groupId!, topic);
    expect(account.missing).toBe(0);
    expect(account.duplicates).toBe(0);
    expect(account.unexpected).toBe(0);

    // Every rejected batch was tried again, and not before Retry-After had passed since the 503.
    const rejected = proxy.log.filter((r) => r.status === 503);
    expect(rejected).toHaveLength(REJECTED_REQUESTS);
    const waits = rejected.map((r) => {
      const next = proxy.log.find((n) => n.body === r.body && n.receivedAt >= r.answeredAt && n !== r);
      if (!next) throw new Error(`the batch answered 503 at ${r.answeredAt} was never sent again`);
      return next.receivedAt - r.answeredAt;
    });
    process.stderr.write(`retry-after: waits after 503 ${JSON.stringify(waits)} ms\n`);
    for (const w of waits) expect(w).toBeGreaterThanOrEqual(RETRY_AFTER_SECONDS * 1000);
    // Bounded too: the wait is the header's, not a much longer fallback.
    for (const w of waits) expect(w).toBeLessThan(RETRY_AFTER_SECONDS * 1000 + 2_000);
    // Everything the proxy forwarded was accepted, and nothing was sent once accepted (0 duplicates above).
    expect(proxy.log.filter((r) => r.status !== 503).every((r) => r.status === 200)).toBe(true);
  });
});
