// Everything the library does with Kafka, over the stack's SASL_SSL listener (SCRAM-SHA-512, TLS with the
// stack's CA): the exporter, the forwarder with its dead-letter producer and its watermark admin, replay,
// the CLI through the documented environment variables, and an optional client certificate. Every log line,
// health report, error and CLI output is kept and searched for the password and key material.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { KafkaSpanExporter } from '../../../src/exporter/kafka-span-exporter';
import { SUCCESS, exportSpans, readToEnd, spanIdsOf, sortedIds, idsOf } from '../exporter/helpers';
import { OtlpHttpFront, invalidTraceIdRequest, startForwarder, waitForCommitsAtEnd } from '../forwarder/helpers';
import { createTopic, endOffsets, produceRaw } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { endpoints } from '../harness/stack';
import { ledgerOf, makeTraces, spanCount, traceRecords, waitForAllSpans } from '../harness/traffic';
import { CapturingLogger, secureConfig, secureEnv, security } from './helpers';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..', '..');

/** Everything the library said or returned in this file, searched for secrets at the end. */
const captured: string[] = [];

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMillis = 30_000): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`otel-kafka-jaeger ${args.join(' ')} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMillis);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      captured.push(stdout, stderr);
      resolve({ code, stdout, stderr });
    });
  });
}

async function until(what: string, probe: () => boolean | Promise<boolean>, timeoutMillis: number): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('SASL/SCRAM-SHA-512 over TLS', () => {
  afterAll(() => {
    // The secret grep: the SCRAM password, the client key and the keystore password appear nowhere.
    const s = security();
    const keyBody = readFileSync(s.clientKeyFile, 'utf8').split('\n')[1] ?? '';
    const all = captured.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [s.password, s.keystorePassword, keyBody]) {
      expect(secret.length).toBeGreaterThan(10);
      expect(all.includes(secret)).toBe(false);
    }
  });

  it('exporter → topic → forwarder (dead letters, watermarks while paused) → Jaeger, and replay: every span once, nothing leaks', async () => {
    const topic = await createTopic({ partitions: 2 });
    const deadLetters = await createTopic({ prefix: 'okj-sec-dlq' });
    const service = uniqueName('sasl-tls');
    const logger = new CapturingLogger();

    // The exporter over SASL_SSL: SUCCESS, and the topic holds exactly its spans.
    const exporter = new KafkaSpanExporter(secureConfig(topic, logger));
    const traces = makeTraces(service, 40);
    try {
      for (const spans of traces) expect((await exportSpans(exporter, spans)).code).toBe(SUCCESS);
    } finally {
      await exporter.shutdown();
    }
    const exported = traces.flat();
    expect(sortedIds(spanIdsOf(await readToEnd(topic)))).toEqual(sortedIds(idsOf(exported)));
    // A record no sink accepts: the forwarder's dead-letter producer writes it over SASL_SSL too.
    await produceRaw(topic, [{ key: 'bad', value: invalidTraceIdRequest(), partition: 0 }]);

    // The forwarder, with its sink answering 503 first: its partitions pause, and the end offsets of paused
    // partitions come from its admin client (the watermark admin), also over SASL_SSL.
    const front = await OtlpHttpFront.start();
    front.mode = { status: 503 };
    const groupId = uniqueName('okj-sec-fwd');
    const forwarder = await startForwarder(
      secureConfig(topic, logger, {
        retry: { initialDelayMillis: 100, maxDelayMillis: 1_000, multiplier: 2, jitter: 0.2 },
        forwarder: {
          groupId,
          sink: { type: 'otlp-http', url: front.url, timeoutMillis: 5_000 },
          deadLetter: { topic: deadLetters },
          commitIntervalMillis: 200,
        },
      }),
    );
    await until(
      'both partitions paused',
      () => forwarder.health().partitions.filter((p) => p.paused).length === 2,
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(forwarder.health())}`);
    });
    const later = makeTraces(service, 10);
    await produceRaw(
      topic,
      traceRecords(later).map((r) => ({ ...r, partition: 1 })),
    );
    const end1 = (await endOffsets(topic)).get(1);
    await until(
      `partition 1's high watermark ${end1} seen while paused`,
      () => forwarder.health().partitions.find((p) => p.partition === 1)?.highWatermark === end1,
      30_000,
    );
    captured.push(JSON.stringify(forwarder.health()));
    front.mode = { forward: true };

    const expected = ledgerOf([...traces, ...later]);
    await waitForCommitsAtEnd(groupId, topic, 60_000);
    const account = await waitForAllSpans(expected, service);
    expect(account.unexpected).toBe(0);
    expect((await endOffsets(deadLetters)).get(0)).toBe(1);
    captured.push(JSON.stringify(forwarder.health()));

    // Replay over SASL_SSL: the whole topic again, to the sink.
    const replayed = await forwarder.replay({ from: new Date(0) });
    captured.push(JSON.stringify(replayed));
    expect(replayed).toBeDefined();
    const again = await waitForAllSpans(expected, service);
    expect(again.missing).toBe(0);
    await forwarder.stop();
    captured.push(JSON.stringify(forwarder.health()), logger.text());
    expect(spanCount(expected)).toBe(250);
  });

  it('the CLI through the documented environment variables: topic create, lag, dlq count, replay', async () => {
    const topic = uniqueName('okj-sec-cli');
    const env = secureEnv(topic);
    const created = await runCli(['topic', 'create', topic, '--partitions', '2'], env);
    expect(created).toMatchObject({ code: 0 });
    const service = uniqueName('sasl-cli');
    const traces = makeTraces(service, 5);
    await produceRaw(topic, traceRecords(traces));
    const group = uniqueName('okj-sec-cli-group');
    const lag = await runCli(['lag', '--group', group, '--json'], env);
    expect(lag.code).toBe(0);
    const rows = lag.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { lag?: number });
    expect(rows.reduce((a, r) => a + (r.lag ?? 0), 0)).toBe(5);
    const deadLetters = `${topic}.dlq`;
    expect(await runCli(['topic', 'create', deadLetters], env)).toMatchObject({ code: 0 });
    const dlq = await runCli(['dlq', 'count'], {
      ...env,
      OTEL_KAFKA_FORWARDER_DEAD_LETTER_TOPIC: deadLetters,
    });
    expect(dlq).toMatchObject({ code: 0, stderr: '' });
    const replay = await runCli(['replay', '--from', '0', '--sink-url', endpoints.jaegerOtlpHttpUrl], env, 60_000);
    expect(replay.code).toBe(0);
    await waitForAllSpans(ledgerOf(traces), service);
  });

  it('with a client certificate and key as well (mutual TLS, given as kafka.tls), the exporter succeeds', async () => {
    const s = security();
    const topic = await createTopic();
    const logger = new CapturingLogger();
    const exporter = new KafkaSpanExporter(
      secureConfig(
        topic,
        logger,
        {},
        { ssl: undefined, tls: { caFile: s.caFile, certFile: s.clientCertFile, keyFile: s.clientKeyFile } },
      ),
    );
    try {
      const spans = makeTraces(uniqueName('sasl-mtls'), 1)[0]!;
      expect((await exportSpans(exporter, spans)).code).toBe(SUCCESS);
      expect(sortedIds(spanIdsOf(await readToEnd(topic)))).toEqual(sortedIds(idsOf(spans)));
    } finally {
      await exporter.shutdown();
    }
    captured.push(logger.text());
  });
});
