// The two examples as users run them: each copied out of the repository into a scratch directory, installed
// with npm against the packed package (`npm pack`), and started with its own `npm start` command against the
// real stack — a traced HTTP service exporting to Kafka and a forwarder host moving the spans to Jaeger —
// then SIGTERM for both. Each test starts its own processes on its own topic and group, so any one runs alone
// (`-t`).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';

import { npmInstall, packPackage } from './scratch-app';
import { freePort } from '../../../scripts/stack/stack';
import { committedOffsets, createTopic, endOffsets, produceRaw } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { endpoints } from '../harness/stack';
import {
  accountInJaeger,
  ledgerOf,
  ledgerOfTopic,
  makeTraces,
  spanCount,
  traceRecords,
  waitForAllSpans,
} from '../harness/traffic';

const root = join(__dirname, '../../..');
const REQUESTS = 5;
const EXPECTED_SPANS = ['GET /checkout', 'price-cart', 'GET', 'GET /inventory'];

interface Example {
  name: string;
  child: ChildProcess;
  /** stdout and stderr lines so far, for failure messages. */
  output: string[];
  listening: Promise<number>;
  exited: Promise<number | null>;
}

const started = new Set<Example>();

/** Where each example was installed, by name (beforeAll). */
const installed = new Map<string, string>();

/**
 * Copies `examples/<name>` to `scratch` and installs it as a user would, its `otel-kafka-jaeger` dependency
 * pointed at `tarball` ({@link npmInstall}).
 */
function installExample(name: string, scratch: string, tarball: string): string {
  const dir = join(scratch, name);
  cpSync(join(root, 'examples', name), dir, { recursive: true });
  const manifestPath = join(dir, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { dependencies: Record<string, string> };
  expect(manifest.dependencies['otel-kafka-jaeger']).toBeDefined();
  manifest.dependencies['otel-kafka-jaeger'] = `file:${tarball}`;
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  npmInstall(dir);
  return dir;
}

/** The command of the example's `npm start` script (run directly, so a signal reaches the example itself). */
function startCommand(dir: string): string[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const [command, ...args] = manifest.scripts.start!.split(' ');
  expect(command).toBe('node');
  return args;
}

function startExample(name: string, env: Record<string, string>): Example {
  const dir = installed.get(name);
  if (!dir) throw new Error(`example ${name} was not installed`);
  const child = spawn(process.execPath, startCommand(dir), {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => output.push(`stderr: ${line}`));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      output.push(line);
      try {
        const event = JSON.parse(line) as { event?: string; port?: number };
        if (event.event === 'listening' && typeof event.port === 'number') resolve(event.port);
      } catch {
        // not a JSON line: kept in `output` only
      }
    });
    void exited.then((code) =>
      reject(new Error(`${name} exited with ${code} before listening:\n${output.join('\n')}`)),
    );
  });
  listening.catch(() => undefined);
  const example = { name, child, output, listening, exited };
  started.add(example);
  return example;
}

async function within<T>(promise: Promise<T>, millis: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what()} within ${millis} ms`)), millis);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for the `listening` line of each (started in parallel) and returns their ports. */
function listeningPorts(...examples: Example[]): Promise<number[]> {
  // A cold tsx + NodeSDK start on a busy two-core machine takes seconds.
  return Promise.all(
    examples.map((e) => within(e.listening, 60_000, () => `${e.name}: no listening line\n${e.output.join('\n')}`)),
  );
}

/** SIGTERM, then the exit code (bounded). */
function terminate(e: Example): Promise<number | null> {
  e.child.kill('SIGTERM');
  return within(e.exited, 20_000, () => `${e.name}: no exit after SIGTERM\n${e.output.join('\n')}`);
}

async function exampleTopic(): Promise<{ topic: string; kafka: Record<string, string> }> {
  const topic = await createTopic({ prefix: 'okj-example', partitions: 3 });
  return {
    topic,
    kafka: { OTEL_EXPORTER_KAFKA_BROKERS: endpoints.kafkaBrokers.join(','), OTEL_EXPORTER_KAFKA_TOPIC: topic },
  };
}

async function startForwarderHost(kafka: Record<string, string>, group: string): Promise<Example> {
  return startExample('forwarder-host', {
    ...kafka,
    OTEL_KAFKA_FORWARDER_GROUP_ID: group,
    OTEL_KAFKA_FORWARDER_SINK_URL: endpoints.jaegerOtlpHttpUrl,
    PORT: String(await freePort()),
  });
}

/**
 * Polls until `group` has committed the end offset of every partition of `topic` that has records (an empty
 * partition has nothing to commit).
 */
async function waitForCommitsAtEnd(group: string, topic: string, timeoutMillis = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    const [committed, end] = await Promise.all([committedOffsets(group, topic), endOffsets(topic)]);
    if ([...end].every(([p, high]) => high === 0 || committed.get(p) === high)) return;
    if (Date.now() > deadline) {
      throw new Error(`commits stuck at ${JSON.stringify([...committed])}, end offsets ${JSON.stringify([...end])}`);
    }
    await delay(100);
  }
}

/** Prometheus samples of one metric, summed over its label sets. */
function metricSum(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe('examples', () => {
  let scratch: string | undefined;

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'okj-examples-'));
    const tarball = packPackage(scratch);
    for (const name of ['traced-service', 'forwarder-host'])
      installed.set(name, installExample(name, scratch, tarball));
  }, 600_000);

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  afterEach(async () => {
    for (const e of started) {
      if (e.child.exitCode === null && e.child.signalCode === null) e.child.kill('SIGKILL');
    }
    await Promise.all([...started].map((e) => e.exited));
    started.clear();
  });

  it('puts exactly the span ids the traced service exported into Jaeger, once each; both stop on SIGTERM with 0', async () => {
    const { topic, kafka } = await exampleTopic();
    const service = uniqueName('okj-example-svc');
    const group = uniqueName('okj-example-group');
    const tracedService = startExample('traced-service', {
      ...kafka,
      OTEL_SERVICE_NAME: service,
      PORT: String(await freePort()),
    });
    const forwarderHost = await startForwarderHost(kafka, group);
    const [servicePort] = await listeningPorts(tracedService, forwarderHost);

    // Trace ids we chose (W3C traceparent): the requests' traces, told apart from anything else.
    const traceIds: string[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const traceId = randomBytes(16).toString('hex');
      const res = await fetch(`http://127.0.0.1:${servicePort}/checkout`, {
        headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
        signal: AbortSignal.timeout(10_000),
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      traceIds.push(traceId);
    }
    // SIGTERM flushes the batch processor through KafkaSpanExporter (acks=all) before exit 0: after it, the
    // topic holds everything the service will ever export.
    expect(await terminate(tracedService)).toBe(0);

    const { ledger: exported, names } = await ledgerOfTopic(topic);
    expect([...exported.keys()].sort()).toEqual([...traceIds].sort());
    for (const traceId of traceIds) {
      expect({ traceId, names: names.get(traceId)?.sort() }).toEqual({ traceId, names: [...EXPECTED_SPANS].sort() });
    }
    expect(spanCount(exported)).toBe(REQUESTS * EXPECTED_SPANS.length);

    await waitForAllSpans(exported, service, { timeoutMillis: 30_000 });
    // Every record committed: nothing is still on its way that could add a copy after the count below.
    await waitForCommitsAtEnd(group, topic);
    const account = await accountInJaeger(exported, service);
    expect({ missing: account.missing, duplicates: account.duplicates, unexpected: account.unexpected }).toEqual({
      missing: 0,
      duplicates: 0,
      unexpected: 0,
    });
    expect(await terminate(forwarderHost)).toBe(0);
  }, 120_000);

  it('serves /healthz and Prometheus /metrics that count what the forwarder host forwarded; stops on SIGTERM with 0', async () => {
    const { topic, kafka } = await exampleTopic();
    const group = uniqueName('okj-example-group');
    const service = uniqueName('okj-example-host');
    const traces = makeTraces(service, 12, 3);
    await produceRaw(
      topic,
      traceRecords(traces).map((r, i) => ({ ...r, partition: i % 3 })),
    );
    const forwarderHost = await startForwarderHost(kafka, group);
    const [hostPort] = await listeningPorts(forwarderHost);

    const deadline = Date.now() + 15_000;
    let status = 0;
    let health: { state?: string; partitions?: unknown[] } = {};
    for (;;) {
      const res = await fetch(`http://127.0.0.1:${hostPort}/healthz`, { signal: AbortSignal.timeout(5_000) });
      status = res.status;
      health = (await res.json()) as typeof health;
      if ((status === 200 && health.partitions?.length === 3) || Date.now() >= deadline) break;
      await delay(250);
    }
    expect(status).toBe(200);
    expect(health.state).toBe('running');
    expect(health.partitions).toHaveLength(3);

    await waitForAllSpans(ledgerOf(traces), service, { timeoutMillis: 30_000 });
    await waitForCommitsAtEnd(group, topic);
    const metrics = await fetch(`http://127.0.0.1:${hostPort}/metrics`, { signal: AbortSignal.timeout(5_000) });
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    // Everything was committed, so the counters are final: every record and span once.
    expect(metricSum(text, 'otel_kafka_jaeger_forwarder_records_total')).toBe(traces.length);
    expect(metricSum(text, 'otel_kafka_jaeger_forwarder_spans_total')).toBe(spanCount(ledgerOf(traces)));
    expect(await terminate(forwarderHost)).toBe(0);
  }, 120_000);
});
