// `otel-kafka-jaeger forward` run as a service, against the real stack: --health-port serves liveness, readiness
// and the forwarder's self-metrics in Prometheus format (scraped over HTTP); with Kafka unreachable it keeps
// trying to start and still honours SIGTERM.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createTopic, produceRaw } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { endpoints } from '../harness/stack';
import { ledgerOf, makeTraces, traceRecords, waitForAllSpans } from '../harness/traffic';
import { secureEnv } from '../security/helpers';
import { jsonLines, runCli, spawnCli } from './cli-process';

const BROKERS = endpoints.kafkaBrokers.join(',');

/** A spawned CLI whose output is collected as it comes. */
function watched(args: string[]): { child: ChildProcess; out: { stdout: string; stderr: string } } {
  const child = spawnCli(args);
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
  return { child, out };
}

/** Polls `probe` every 100 ms until it returns a value other than undefined; fails after `timeoutMillis`. */
async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMillis: number) {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resolves with the exit code, or 'timeout' after `timeoutMillis`. */
function exitWithin(child: ChildProcess, timeoutMillis: number): Promise<number | null | 'timeout'> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), timeoutMillis);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

async function get(port: number, path: string): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

/** Prometheus text format: each sample's value by `name{labels}`, and the sum per metric name. */
function samples(text: string): { byName: Map<string, number>; lines: string[] } {
  const byName = new Map<string, number>();
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  for (const line of lines) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) byName.set(m[1]!, (byName.get(m[1]!) ?? 0) + Number(m[3]));
  }
  return { byName, lines };
}

describe('otel-kafka-jaeger forward as a service', () => {
  it('--health-port: /healthz and /readyz answer, /metrics shows what it forwarded, and SIGTERM closes it all', async () => {
    const topic = await createTopic({ prefix: 'okj-cli-health', partitions: 2 });
    const service = uniqueName('cli-health');
    const traces = makeTraces(service, 12, 3);
    await produceRaw(topic, traceRecords(traces));
    const group = uniqueName('okj-cli-health-group');
    const { child, out } = watched([
      ...['forward', '--brokers', BROKERS, '--topic', topic, '--group', group],
      ...['--sink-url', endpoints.jaegerOtlpHttpUrl, '--health-port', '0'],
    ]);
    try {
      const port = await until(
        'the health server',
        () => jsonLines(out.stdout).find((l) => l.msg === 'serving health and metrics')?.port as number | undefined,
        30_000,
      );
      // Ready once it joined its group: 503 naming the cause until then, 200 after.
      const ready = await until(
        '/readyz 200',
        async () => {
          const r = await get(port, '/readyz');
          if (r.status === 503) expect(JSON.parse(r.body)).toMatchObject({ status: 'not ready', cause: /starting/ });
          return r.status === 200 ? r : undefined;
        },
        30_000,
      );
      expect(ready.type).toBe('application/json');
      expect(JSON.parse(ready.body)).toMatchObject({ status: 'ready', health: { state: 'running', topic } });
      const live = await get(port, '/healthz');
      expect({ status: live.status, body: JSON.parse(live.body) as unknown }).toEqual({
        status: 200,
        body: { status: 'alive', state: 'running' },
      });
      expect((await get(port, '/nope')).status).toBe(404);

      await waitForAllSpans(ledgerOf(traces), service, { timeoutMillis: 30_000 });
      // Counters of what the sink accepted, the lag gauge per partition back at 0, and the committed offsets.
      const scraped = await until(
        'the forwarded records in /metrics',
        async () => {
          const m = await get(port, '/metrics');
          const s = samples(m.body);
          const lag = s.lines.filter((l) => l.startsWith('otel_kafka_jaeger_forwarder_consumer_lag{'));
          const done =
            s.byName.get('otel_kafka_jaeger_forwarder_records_total') === traces.length &&
            lag.length === 2 &&
            s.byName.get('otel_kafka_jaeger_forwarder_consumer_lag') === 0 &&
            // Committed offsets are the next record to read: across partitions, the records there are.
            s.byName.get('otel_kafka_jaeger_forwarder_committed_offset') === traces.length;
          return done ? { ...m, ...s, lag } : undefined;
        },
        30_000,
      );
      expect(scraped.status).toBe(200);
      expect(scraped.type).toMatch(/^text\/plain/);
      expect(scraped.byName.get('otel_kafka_jaeger_forwarder_spans_total')).toBe(traces.length * 3);
      expect(scraped.byName.get('otel_kafka_jaeger_forwarder_sink_duration_count')).toBeGreaterThan(0);
      expect(scraped.byName.get('otel_kafka_jaeger_forwarder_partitions_paused')).toBe(0);
      for (const partition of [0, 1]) {
        expect(scraped.lag.some((l) => l.includes(`partition="${partition}"`) && l.includes(topic))).toBe(true);
      }

      child.kill('SIGTERM');
      expect(await exitWithin(child, 20_000)).toBe(0);
      // The server closed with the process: nothing answers on the port any more.
      await expect(get(port, '/healthz')).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(out.stderr).toBe('');
  });

  it('Kafka unreachable at start: it keeps trying (each failure on stderr) and exits 0 on SIGTERM meanwhile', async () => {
    // A short stop timeout, so that "promptly" is measurable.
    const dir = mkdtempSync(join(tmpdir(), 'okj-cli-retry-'));
    const config = join(dir, 'forwarder.json');
    const stopTimeoutMillis = 2_000;
    writeFileSync(config, JSON.stringify({ forwarder: { stopTimeoutMillis } }));
    // Port 1 on loopback: nothing listens, every connect is refused. Each start attempt lasts the client's connect
    // timeout (librdkafka gives up after about 30 s).
    const { child, out } = watched(['forward', '--config', config, '--brokers', '127.0.0.1:1', '--health-port', '0']);
    try {
      const port = await until(
        'the health server',
        () => jsonLines(out.stdout).find((l) => l.msg === 'serving health and metrics')?.port as number | undefined,
        30_000,
      );
      const failures = () => jsonLines(out.stderr).filter((l) => String(l.msg).startsWith('start failed: '));
      await until('a failed start attempt', () => (failures().length >= 1 ? true : undefined), 60_000);
      // Alive (it is doing its job: trying), not ready, and the readiness says why.
      // (The forwarder is 'created' again between attempts, 'starting' during one.)
      const live = await get(port, '/healthz');
      expect({ status: live.status, body: JSON.parse(live.body) as unknown }).toEqual({
        status: 200,
        body: { status: 'alive', state: expect.stringMatching(/^(created|starting)$/) as unknown },
      });
      const ready = await get(port, '/readyz');
      expect(ready.status).toBe(503);
      const body = JSON.parse(ready.body) as { status: string; cause: string; health: { state: string } };
      expect(body.status).toBe('not ready');
      // Asked during the wait after the first failure or during the second attempt.
      expect(body.cause).toMatch(
        /^starting: joining consumer group .* \(attempt [12]\); last failure: .*127\.0\.0\.1:1/,
      );
      await until('two failed start attempts', () => (failures().length >= 2 ? true : undefined), 60_000);
      // The signal lands in the wait before the third attempt (about 2 s from the second failure).
      child.kill('SIGTERM');
      const signalledAt = Date.now();
      expect(await exitWithin(child, stopTimeoutMillis + 3_000)).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(stopTimeoutMillis + 3_000);

      const [first, second] = failures();
      expect(first).toMatchObject({ level: 'warn', attempt: 1, code: 'KAFKA_UNAVAILABLE' });
      expect(String(first!.msg)).toContain('127.0.0.1:1');
      expect(second).toMatchObject({ attempt: 2 });
      // Capped exponential backoff with ±20 % jitter: about 1 s, then about 2 s.
      expect(first!.retryInMillis).toBeGreaterThanOrEqual(800);
      expect(first!.retryInMillis).toBeLessThanOrEqual(1_200);
      expect(second!.retryInMillis).toBeGreaterThanOrEqual(1_600);
      expect(second!.retryInMillis).toBeLessThanOrEqual(2_400);
      const lines = jsonLines(out.stdout);
      expect(lines.some((l) => l.msg === 'stopping' && l.signal === 'SIGTERM' && l.while === 'starting')).toBe(true);
      expect(lines.some((l) => l.msg === 'stopped')).toBe(true);
      expect(lines.some((l) => l.msg === 'forwarding')).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 150_000);

  it('a start error retrying cannot fix (a wrong SASL password) exits 1 naming it, without retrying', async () => {
    const wrong = 'okj-wrong-password-cli-5d1e';
    const topic = uniqueName('okj-cli-auth');
    // start() fails once its connect gives up (librdkafka's 30 s), with the cause librdkafka named meanwhile.
    const result = await runCli(['forward'], {
      env: { ...secureEnv(topic), OTEL_EXPORTER_KAFKA_SASL_PASSWORD: wrong },
      timeoutMillis: 90_000,
    });
    expect({ code: result.code, stderr: result.stderr }).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(
        /^otel-kafka-jaeger forward: cannot join consumer group .*: the broker rejected the SASL credentials/m,
      ) as unknown,
    });
    expect(result.stderr).not.toContain('start failed');
    expect(result.stdout + result.stderr).not.toContain(wrong);
  }, 120_000);
});
