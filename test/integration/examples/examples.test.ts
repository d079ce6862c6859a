// The two examples as users run them: child processes started with tsx against the real stack, a traced
// HTTP service exporting to Kafka and a forwarder host moving the spans to Jaeger, then SIGTERM for both.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';

import { freePort } from '../../../scripts/stack/stack';
import { createTopic } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { endpoints } from '../harness/stack';

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

function startExample(name: string, env: Record<string, string>): Example {
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/${name}/index.ts`], {
    cwd: root,
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
  return { name, child, output, listening, exited };
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

interface JaegerTrace {
  traceID: string;
  spans: { operationName: string }[];
}

async function tracesOf(service: string): Promise<JaegerTrace[]> {
  const url = `${endpoints.jaegerQueryUrl}/api/traces?service=${encodeURIComponent(service)}&limit=100&lookback=1h`;
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) return [];
  return ((await res.json()) as { data?: JaegerTrace[] }).data ?? [];
}

function complete(t: JaegerTrace): boolean {
  const names = t.spans.map((s) => s.operationName);
  return EXPECTED_SPANS.every((name) => names.includes(name));
}

describe('examples', () => {
  const service = uniqueName('okj-example-svc');
  let tracedService: Example;
  let forwarderHost: Example;
  let servicePort: number;
  let hostPort: number;

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/index.js'))) {
      execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'ignore' });
    }
    const topic = await createTopic({ prefix: 'okj-example', partitions: 3 });
    const kafka = { OTEL_EXPORTER_KAFKA_BROKERS: endpoints.kafkaBrokers.join(','), OTEL_EXPORTER_KAFKA_TOPIC: topic };
    tracedService = startExample('traced-service', {
      ...kafka,
      OTEL_SERVICE_NAME: service,
      PORT: String(await freePort()),
    });
    forwarderHost = startExample('forwarder-host', {
      ...kafka,
      OTEL_KAFKA_FORWARDER_GROUP_ID: uniqueName('okj-example-group'),
      OTEL_KAFKA_FORWARDER_SINK_URL: endpoints.jaegerOtlpHttpUrl,
      PORT: String(await freePort()),
    });
    // Both start in parallel; a cold tsx + NodeSDK start on a busy two-core machine takes seconds.
    const listening = (e: Example): Promise<number> =>
      within(e.listening, 60_000, () => `${e.name}: no listening line\n${e.output.join('\n')}`);
    [servicePort, hostPort] = await Promise.all([listening(tracedService), listening(forwarderHost)]);
  }, 120_000);

  afterAll(async () => {
    for (const e of [tracedService, forwarderHost]) {
      if (e && e.child.exitCode === null && e.child.signalCode === null) e.child.kill('SIGKILL');
    }
    await Promise.all([tracedService?.exited, forwarderHost?.exited]);
  });

  it('traces each request of the traced service into Jaeger through Kafka and the forwarder host', async () => {
    for (let i = 0; i < REQUESTS; i++) {
      const res = await fetch(`http://127.0.0.1:${servicePort}/checkout`, { signal: AbortSignal.timeout(10_000) });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    // NodeSDK's batch processor exports every 5 s by default, then Kafka → forwarder → Jaeger.
    const deadline = Date.now() + 30_000;
    let traces: JaegerTrace[] = [];
    while ((traces = await tracesOf(service)).filter(complete).length < REQUESTS) {
      if (Date.now() >= deadline) {
        throw new Error(
          `Jaeger holds ${traces.filter(complete).length} of ${REQUESTS} complete traces of ${service}: ` +
            JSON.stringify(traces.map((t) => t.spans.map((s) => s.operationName))),
        );
      }
      await delay(250);
    }
    expect(traces.filter(complete)).toHaveLength(REQUESTS);
  }, 60_000);

  it('serves /healthz and Prometheus /metrics on the forwarder host', async () => {
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

    const metrics = await fetch(`http://127.0.0.1:${hostPort}/metrics`, { signal: AbortSignal.timeout(5_000) });
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^otel_kafka_jaeger_forwarder_records_total\{[^}]*\} [1-9]/m);
  });

  it('stops both on SIGTERM with exit code 0', async () => {
    tracedService.child.kill('SIGTERM');
    forwarderHost.child.kill('SIGTERM');
    const codes = await Promise.all(
      [tracedService, forwarderHost].map((e) =>
        within(e.exited, 20_000, () => `${e.name}: no exit after SIGTERM\n${e.output.join('\n')}`),
      ),
    );
    expect(codes).toEqual([0, 0]);
  }, 30_000);
});
