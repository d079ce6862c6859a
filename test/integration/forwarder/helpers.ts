import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import * as protobuf from 'protobufjs';

import { KafkaToJaegerForwarder } from '../../../src/forwarder/kafka-to-jaeger-forwarder';
import type { OtelKafkaJaegerConfig } from '../../../src/config/types';
import { otlpHttpSink } from '../../../src/sinks/otlp-http-sink';
import type { Sink, SinkRecord, SinkResult, SinkSendOptions } from '../../../src/sinks/sink';
import { committedOffsets, endOffsets } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { accountInJaeger } from '../harness/traffic';
import type { JaegerAccount, SpanLedger } from '../harness/traffic';
import { endpoints } from '../harness/stack';

const running = new Set<KafkaToJaegerForwarder>();

/** With OKJ_DEBUG=1, forwarder logs go to stderr (for investigating a failing test). */
const debugLogger = {
  debug: (): void => undefined,
  info: (m: string, a?: Record<string, unknown>): void =>
    void process.stderr.write(`INFO ${m} ${JSON.stringify(a ?? {})}\n`),
  warn: (m: string, a?: Record<string, unknown>): void =>
    void process.stderr.write(`WARN ${m} ${JSON.stringify(a ?? {})}\n`),
  error: (m: string, a?: Record<string, unknown>): void =>
    void process.stderr.write(`ERROR ${m} ${JSON.stringify(a ?? {})}\n`),
};

/** Stops every forwarder {@link startForwarder} started and not yet stopped (each test file does at its end). */
export async function stopForwarders(): Promise<void> {
  const all = [...running];
  running.clear();
  await Promise.allSettled(all.map((f) => f.stop()));
}

afterAll(stopForwarders);

/** Forwarder config for the test stack: the topic, a fresh group, the given sink URL, fast retries. */
export function forwarderConfig(
  topic: string,
  opts: { sinkUrl?: string; sink?: Sink; groupId?: string; forwarder?: OtelKafkaJaegerConfig['forwarder'] } = {},
): OtelKafkaJaegerConfig {
  return {
    ...(process.env.OKJ_DEBUG ? { logger: debugLogger } : {}),
    kafka: { brokers: endpoints.kafkaBrokers, topic, clientId: 'okj-forwarder-it' },
    retry: { initialDelayMillis: 100, maxDelayMillis: 2_000, multiplier: 2, jitter: 0.2 },
    forwarder: {
      groupId: opts.groupId ?? uniqueName('okj-fwd'),
      sink: opts.sink ?? { type: 'otlp-http', url: opts.sinkUrl ?? endpoints.jaegerOtlpHttpUrl, timeoutMillis: 5_000 },
      commitIntervalMillis: 200,
      ...opts.forwarder,
    },
  };
}

/** Starts a forwarder that the test file stops afterwards, whatever happens. */
export async function startForwarder(config: OtelKafkaJaegerConfig): Promise<KafkaToJaegerForwarder> {
  const forwarder = new KafkaToJaegerForwarder(config);
  running.add(forwarder);
  await forwarder.start();
  return forwarder;
}

/** Polls until the group's committed offset of every partition of `topic` is its end offset. */
export async function waitForCommitsAtEnd(groupId: string, topic: string, timeoutMillis = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    const [committed, end] = await Promise.all([committedOffsets(groupId, topic), endOffsets(topic)]);
    // An empty partition has nothing to commit: no committed offset there is as good as 0.
    if ([...end].every(([p, high]) => (committed.get(p) ?? 0) === high)) return;
    if (Date.now() > deadline) {
      throw new Error(`commits stuck at ${JSON.stringify([...committed])}, end offsets ${JSON.stringify([...end])}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A sink that counts every attempt and its outcome, delegating to the real OTLP/HTTP sink. */
export class CountingSink implements Sink {
  readonly name = 'counting-otlp-http';
  readonly #inner: Sink;
  attempts = 0;
  failures = 0;
  successes = 0;

  constructor(url: string) {
    this.#inner = otlpHttpSink({ url, timeoutMillis: 5_000 });
  }

  async send(records: readonly SinkRecord[], options: SinkSendOptions): Promise<SinkResult | void> {
    this.attempts++;
    try {
      const result = await this.#inner.send(records, options);
      this.successes++;
      return result;
    } catch (err) {
      this.failures++;
      throw err;
    }
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

/**
 * The real OTLP/HTTP sink behind a gate: while closed, requests wait (in flight) before they are sent. Lets a
 * test hold a request in flight while something else happens (a rebalance), then let it through.
 */
export class GatedSink implements Sink {
  readonly name = 'gated-otlp-http';
  readonly #inner: Sink;
  #open: Promise<void>;
  #release: () => void = () => undefined;
  waiting = 0;

  constructor(url: string) {
    this.#inner = otlpHttpSink({ url, timeoutMillis: 5_000 });
    this.#open = new Promise((resolve) => (this.#release = resolve));
  }

  open(): void {
    this.#release();
  }

  async send(records: readonly SinkRecord[], options: SinkSendOptions): Promise<SinkResult | void> {
    this.waiting++;
    await this.#open;
    this.waiting--;
    return this.#inner.send(records, options);
  }

  close(): Promise<void> {
    this.open();
    return this.#inner.close();
  }
}

/**
 * Waits until the group committed every record of `topic`, then reads Jaeger raw once: every expected span is
 * there exactly once and nothing else is. Fault-free runs only: a forwarder that sent a batch twice fails here.
 *
 * @remarks
 * The commit comes only after the sink accepted the records, and the test Jaeger (no batch processor) stores
 * spans before it answers, so once commits are at the end every copy the forwarder sent is queryable.
 */
export async function expectEachSpanOnce(
  expected: SpanLedger,
  service: string,
  groupId: string,
  topic: string,
  opts: { queryUrl?: string; timeoutMillis?: number } = {},
): Promise<JaegerAccount> {
  await waitForCommitsAtEnd(groupId, topic, opts.timeoutMillis ?? 30_000);
  const account = await accountInJaeger(expected, service, opts.queryUrl);
  expect({ missing: account.missing, duplicates: account.duplicates, unexpected: account.unexpected }).toEqual({
    missing: 0,
    duplicates: 0,
    unexpected: 0,
  });
  return account;
}

/** What {@link OtlpHttpFront} answers: a status of its own (nothing forwarded), or Jaeger's answer. */
export type FrontMode =
  | { status: number }
  /** Forwards to Jaeger; a 2xx answer's body is replaced by `body` (protobuf) when given. */
  | { forward: true; body?: Uint8Array };

const fronts = new Set<Server>();
afterAll(async () => {
  for (const s of fronts) s.closeAllConnections();
  await Promise.allSettled([...fronts].map((s) => new Promise((resolve) => s.close(resolve))));
  fronts.clear();
});

/**
 * A real HTTP server in front of Jaeger's OTLP/HTTP endpoint that answers as `mode` says: a sink outage (503)
 * or a receiver's answer Jaeger never gives (a partial success), with Jaeger storing what was forwarded.
 */
export class OtlpHttpFront {
  mode: FrontMode = { forward: true };
  /** Every status answered, in order. */
  readonly answered: number[] = [];
  /** The OTLP/HTTP URL to give a sink; set once listening. */
  url = '';

  private constructor() {}

  static async start(target = endpoints.jaegerOtlpHttpUrl): Promise<OtlpHttpFront> {
    const front = new OtlpHttpFront();
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const mode = front.mode;
          let status: number;
          let body: Uint8Array = new Uint8Array();
          let contentType = 'application/x-protobuf';
          if ('status' in mode) {
            status = mode.status;
          } else {
            const upstream = await fetch(target, {
              method: 'POST',
              body: Buffer.concat(chunks),
              headers: { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' },
              signal: AbortSignal.timeout(10_000),
            });
            status = upstream.status;
            body = new Uint8Array(await upstream.arrayBuffer());
            contentType = upstream.headers.get('content-type') ?? contentType;
            if (mode.body && status >= 200 && status < 300) {
              body = mode.body;
              contentType = 'application/x-protobuf';
            }
          }
          front.answered.push(status);
          res.writeHead(status, { 'content-type': contentType }).end(body);
        })().catch((err: unknown) => res.writeHead(502).end(String(err)));
      });
    });
    fronts.add(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    front.url = `http://127.0.0.1:${port}/v1/traces`;
    return front;
  }
}

/**
 * A well-framed OTLP request of one span whose trace id has 5 bytes: it passes the forwarder's pre-send
 * checks (framing, at least one span), Jaeger's OTLP receivers refuse it (HTTP 400, gRPC INTERNAL: 16 bytes
 * or nothing), and the Thrift sink's decoder refuses it before any request.
 */
export function invalidTraceIdRequest(): Buffer {
  const span = protobuf.Writer.create();
  span.uint32((1 << 3) | 2).bytes(Buffer.from([1, 2, 3, 4, 5]));
  span.uint32((2 << 3) | 2).bytes(randomBytes(8));
  span.uint32((5 << 3) | 2).string('bad-id');
  const scope = protobuf.Writer.create();
  scope.uint32((2 << 3) | 2).bytes(span.finish());
  const rs = protobuf.Writer.create();
  rs.uint32((2 << 3) | 2).bytes(scope.finish());
  const req = protobuf.Writer.create();
  req.uint32((1 << 3) | 2).bytes(rs.finish());
  return Buffer.from(req.finish());
}
