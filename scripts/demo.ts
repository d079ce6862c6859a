// `npm run demo`: "what if Jaeger goes down?" in one command. A traced HTTP service exports its spans to
// Kafka (examples/traced-service), a forwarder moves them to Jaeger (examples/forwarder-host); Jaeger (on
// Badger storage) is stopped while traffic goes on, then started again; the demo waits for the backlog to
// drain and counts, by trace id, what Jaeger has. Exit code 1 if anything was lost.
//
//   npm run demo -- [--requests N] [--outage-seconds S]
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import { KafkaJS } from '@confluentinc/kafka-javascript';

import { freeJaegerPorts, freePort, JaegerInstance, KafkaBroker } from './stack/stack';

const ROOT = join(__dirname, '..');

interface Phase {
  name: string;
  traceIds: string[];
}

const say = (msg: string): void => void process.stdout.write(`demo: ${msg}\n`);
const status = (msg: string): void => {
  if (process.stdout.isTTY) process.stdout.write(`\r\x1b[2K${msg}`);
};
const endStatus = (): void => {
  if (process.stdout.isTTY) process.stdout.write('\r\x1b[2K');
};

function startChild(
  name: string,
  file: string,
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, file)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within 60 s:\n${out.slice(-2_000)}`)),
      60_000,
    );
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = /"event":"listening","port":(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${out.slice(-2_000)}`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** One request with a trace id we chose, so Jaeger can be asked for exactly the traces we caused. */
async function request(port: number): Promise<string> {
  const traceId = randomBytes(16).toString('hex');
  const res = await fetch(`http://127.0.0.1:${port}/checkout`, {
    headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
    signal: AbortSignal.timeout(10_000),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`GET /checkout → ${res.status}`);
  return traceId;
}

async function sendTraffic(
  port: number,
  count: number,
  spreadMillis: number,
  phase: Phase,
  lag: () => Promise<string>,
) {
  const gap = count > 1 ? spreadMillis / count : 0;
  for (let i = 0; i < count; i++) {
    phase.traceIds.push(await request(port));
    if (i % 5 === 0) status(`  ${phase.name}: ${i + 1}/${count} requests sent, consumer lag ${await lag()}`);
    if (gap > 0) await delay(gap);
  }
  endStatus();
  say(`${phase.name}: ${count} requests sent`);
}

interface TraceCount {
  found: boolean;
  spans: number;
  duplicates: number;
}

async function countTrace(queryUrl: string, traceId: string): Promise<TraceCount> {
  const res = await fetch(`${queryUrl}/api/v3/traces/${traceId}`, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) return { found: false, spans: 0, duplicates: 0 };
  const body = (await res.json()) as {
    result?: { resourceSpans?: { scopeSpans?: { spans?: { spanId: string }[] }[] }[] };
  };
  const ids = (body.result?.resourceSpans ?? []).flatMap((r) => (r.scopeSpans ?? []).flatMap((s) => s.spans ?? []));
  const distinct = new Set(ids.map((s) => s.spanId));
  return { found: ids.length > 0, spans: distinct.size, duplicates: ids.length - distinct.size };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { requests: { type: 'string', default: '40' }, 'outage-seconds': { type: 'string', default: '20' } },
  });
  const requests = Number(values.requests);
  const outageSeconds = Number(values['outage-seconds']);
  if (!Number.isInteger(requests) || requests < 1)
    throw new Error(`--requests ${values.requests}: expected a positive integer`);
  if (!Number.isFinite(outageSeconds) || outageSeconds < 1) {
    throw new Error(`--outage-seconds ${values['outage-seconds']}: expected a number >= 1`);
  }

  const t0 = Date.now();
  const kafka = new KafkaBroker();
  const jaeger = new JaegerInstance({ name: 'jaeger-demo', storage: 'badger', ports: await freeJaegerPorts() });
  say('bringing up Kafka and a Jaeger on Badger storage (a first run builds them; later runs take seconds)');
  await jaeger.destroy(); // a clean Jaeger for clean counts
  await Promise.all([kafka.prepare(), jaeger.prepare()]);
  await Promise.all([kafka.start(), jaeger.start()]);
  say(
    `Kafka ${kafka.bootstrap}, Jaeger query ${jaeger.queryUrl} (stack ready in ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
  );

  const topic = `okj-demo-${randomBytes(3).toString('hex')}`;
  const admin = new KafkaJS.Kafka({
    kafkaJS: { brokers: [kafka.bootstrap], logLevel: KafkaJS.logLevel.NOTHING },
  }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
  const service = `demo-checkout-${randomBytes(2).toString('hex')}`;
  const common = { OTEL_EXPORTER_KAFKA_BROKERS: kafka.bootstrap, OTEL_EXPORTER_KAFKA_TOPIC: topic };
  const traced = await startChild('traced service', 'examples/traced-service/index.ts', {
    ...common,
    OTEL_SERVICE_NAME: service,
    PORT: String(await freePort()),
  });
  const forwarder = await startChild('forwarder', 'examples/forwarder-host/index.ts', {
    ...common,
    OTEL_KAFKA_FORWARDER_GROUP_ID: `${topic}-forwarder`,
    OTEL_KAFKA_FORWARDER_SINK_URL: jaeger.otlpHttpUrl,
    PORT: String(await freePort()),
  });
  say(`traced service on :${traced.port} → topic ${topic} → forwarder (health on :${forwarder.port}) → Jaeger`);
  const lag = async (): Promise<string> => {
    try {
      const res = await fetch(`http://127.0.0.1:${forwarder.port}/healthz`, { signal: AbortSignal.timeout(2_000) });
      const h = (await res.json()) as { partitions?: { lag?: number }[] };
      return String((h.partitions ?? []).reduce((n, p) => n + (p.lag ?? 0), 0));
    } catch {
      return '?';
    }
  };

  const phases: Phase[] = [
    { name: 'Jaeger up', traceIds: [] },
    { name: 'Jaeger DOWN', traceIds: [] },
    { name: 'Jaeger back', traceIds: [] },
  ];
  try {
    await sendTraffic(traced.port, requests, 2_000, phases[0]!, lag);
    say(`stopping Jaeger for ${outageSeconds} s; traffic goes on`);
    await jaeger.stop();
    const outageStart = Date.now();
    await sendTraffic(traced.port, requests, outageSeconds * 1_000 * 0.8, phases[1]!, lag);
    while (Date.now() - outageStart < outageSeconds * 1_000) {
      status(`  Jaeger down for ${((Date.now() - outageStart) / 1000).toFixed(0)} s, consumer lag ${await lag()}`);
      await delay(500);
    }
    endStatus();
    say('starting Jaeger again on the same data');
    await jaeger.start();
    const back = Date.now();
    await sendTraffic(traced.port, requests, 2_000, phases[2]!, lag);

    const all = phases.flatMap((p) => p.traceIds);
    const counts = new Map<string, TraceCount>();
    const deadline = Date.now() + 180_000;
    let drainedAfter: number | undefined;
    for (;;) {
      for (const id of all) if (!counts.get(id)?.found) counts.set(id, await countTrace(jaeger.queryUrl, id));
      const missing = all.filter((id) => !counts.get(id)?.found).length;
      status(
        `  waiting for the drain: ${all.length - missing}/${all.length} traces in Jaeger, consumer lag ${await lag()}`,
      );
      if (missing === 0) {
        drainedAfter = Date.now() - back;
        break;
      }
      if (Date.now() > deadline) break;
      await delay(500);
    }
    endStatus();
    // Recount everything once drained: spans of a trace may arrive in more than one message.
    for (const id of all) counts.set(id, await countTrace(jaeger.queryUrl, id));

    const rows = phases.map((p) => {
      const c = p.traceIds.map((id) => counts.get(id)!);
      return {
        phase: p.name,
        sent: p.traceIds.length,
        found: c.filter((x) => x.found).length,
        spans: c.reduce((n, x) => n + x.spans, 0),
        lost: c.filter((x) => !x.found).length,
        duplicates: c.reduce((n, x) => n + x.duplicates, 0),
      };
    });
    const total = rows.reduce(
      (t, r) => ({
        phase: 'total',
        sent: t.sent + r.sent,
        found: t.found + r.found,
        spans: t.spans + r.spans,
        lost: t.lost + r.lost,
        duplicates: t.duplicates + r.duplicates,
      }),
      { phase: 'total', sent: 0, found: 0, spans: 0, lost: 0, duplicates: 0 },
    );
    const table = [...rows, total];
    const header = ['phase', 'traces sent', 'traces in Jaeger', 'spans in Jaeger', 'lost', 'duplicates'];
    const lines = table.map((r) => [r.phase, r.sent, r.found, r.spans, r.lost, r.duplicates].map(String));
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
    const fmt = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
    process.stdout.write(`\n${fmt(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n`);
    for (const l of lines) process.stdout.write(`${fmt(l)}\n`);
    process.stdout.write(
      `\ntime to drain after Jaeger came back: ${drainedAfter === undefined ? 'did not drain within 180 s' : `${(drainedAfter / 1000).toFixed(1)} s`}\n`,
    );
    process.stdout.write(
      `\n${total.lost === 0 ? 'VERDICT: 0 lost' : `VERDICT: ${total.lost} lost`} — ${total.sent} traces sent, ${outageSeconds} s outage, Jaeger query ${jaeger.queryUrl}\n`,
    );
    return total.lost === 0 ? 0 : 1;
  } finally {
    await Promise.all([stopChild(traced.child), stopChild(forwarder.child)]);
    await admin.disconnect();
    await jaeger.stop();
    say('done; Kafka keeps running for the next run (npm run stack:down stops it)');
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo: FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
