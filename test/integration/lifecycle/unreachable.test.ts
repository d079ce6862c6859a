// Kafka unreachable (nothing listens on 127.0.0.1:1): every connect is bounded by kafka.connectTimeoutMillis,
// and shutdown()/stop() abandon a pending connect so the process exits promptly. Child processes, because what
// is measured is when Node's event loop lets a process end.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const UNREACHABLE = ['127.0.0.1:1'];

interface Run {
  events: { event: string; at: number; [k: string]: unknown }[];
  exitedAt: number;
  code: number | null;
  output: string;
}

function runChild(mode: string, config: object, timeoutMillis = 60_000): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'unreachable-child.ts')], {
    env: { ...process.env, OKJ_UNREACHABLE_MODE: mode, OKJ_UNREACHABLE_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Run['events'] = [];
  let output = '';
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('{')) events.push({ ...(JSON.parse(line) as { event: string }), at: Date.now() });
      else output += `${line}\n`;
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`${mode} child still alive after ${timeoutMillis} ms; events ${JSON.stringify(events)}\n${output}`),
      );
    }, timeoutMillis);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ events, exitedAt: Date.now(), code, output });
    });
  });
}

function at(run: Run, event: string): number {
  const e = run.events.find((x) => x.event === event);
  if (!e) throw new Error(`no '${event}' event; events ${JSON.stringify(run.events)}\n${run.output}`);
  return e.at;
}

it('an exporter whose broker is unreachable lets the process exit within its timeout + 2 s of shutdown()', async () => {
  const timeoutMillis = 1_000;
  const run = await runChild('exporter', {
    kafka: { brokers: UNREACHABLE, topic: 'okj-unreachable' },
    exporter: { timeoutMillis },
  });
  expect(run.code).toBe(0);
  const exported = run.events.find((e) => e.event === 'exported');
  expect(exported).toMatchObject({ success: false });
  // The failure names what it was doing and what librdkafka saw.
  expect(exported?.error).toMatch(
    /within 1000 ms \(connecting to Kafka, last connection problem: .*127\.0\.0\.1:1.*refused/i,
  );
  expect(run.exitedAt - at(run, 'shutdown')).toBeLessThanOrEqual(timeoutMillis + 2_000);
});

it('forwarder.start() fails within kafka.connectTimeoutMillis naming the problem, and the process exits', async () => {
  const connectTimeoutMillis = 3_000;
  const run = await runChild('start', {
    kafka: { brokers: UNREACHABLE, topic: 'okj-unreachable', connectTimeoutMillis },
    forwarder: { sink: { type: 'otlp-http', url: 'http://127.0.0.1:1/v1/traces' } },
  });
  expect(run.code).toBe(0);
  const failed = run.events.find((e) => e.event === 'start failed');
  expect(failed).toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
  expect(failed?.message).toMatch(
    /^cannot join consumer group [^:]+: no Kafka broker at 127\.0\.0\.1:1 answered within 3000 ms \(kafka\.connectTimeoutMillis\); last connection problem: .*refused/i,
  );
  // Attempts after a refusal last 1 s: the last one ends at most that long after the limit.
  const took = at(run, 'start failed') - at(run, 'starting');
  expect(took).toBeGreaterThanOrEqual(connectTimeoutMillis - 100);
  expect(took).toBeLessThanOrEqual(connectTimeoutMillis + 1_500);
  expect(run.exitedAt - at(run, 'start failed')).toBeLessThanOrEqual(2_000);
});

it('forwarder.stop() during a start() that is still connecting ends it, and the process exits', async () => {
  const run = await runChild('stop', {
    kafka: { brokers: UNREACHABLE, topic: 'okj-unreachable', connectTimeoutMillis: 120_000 },
    forwarder: { sink: { type: 'otlp-http', url: 'http://127.0.0.1:1/v1/traces' } },
  });
  expect(run.code).toBe(0);
  expect(run.events.find((e) => e.event === 'start failed')).toMatchObject({ code: 'SHUTDOWN' });
  expect(run.events.some((e) => e.event === 'started')).toBe(false);
  expect(at(run, 'stopped') - at(run, 'stopping')).toBeLessThanOrEqual(2_500);
  expect(run.exitedAt - at(run, 'stopping')).toBeLessThanOrEqual(3_000);
});
