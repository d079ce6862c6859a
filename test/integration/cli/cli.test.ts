// The `otel-kafka-jaeger` command, run as a child process (through tsx, no build needed) against the real
// stack: usage errors, topic creation, lag, the forwarder's lifecycle under SIGTERM, dead-letter
// inspection and redrive, and replay.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { DEAD_LETTER_HEADERS } from '../../../src/forwarder/dead-letter';
import { forwarderConfig, startForwarder, waitForCommitsAtEnd } from '../forwarder/helpers';
import { consumeRaw, createTopic, endOffsets, produceRaw } from '../harness/kafka';
import type { RawRecord } from '../harness/kafka';
import { uniqueName } from '../harness/names';
import { endpoints } from '../harness/stack';
import { accountInJaeger, ledgerOf, makeTraces, traceRecords, waitForAllSpans } from '../harness/traffic';
import { ROOT, jsonLines, runCli, spawnCli } from './cli-process';

const BROKERS = endpoints.kafkaBrokers.join(',');

describe('otel-kafka-jaeger CLI', () => {
  it('prints help for every command', async () => {
    const commands = [[], ['forward'], ['replay'], ['topic'], ['lag'], ['dlq']];
    const results = await Promise.all(commands.map((c) => runCli([...c, '--help'])));
    results.forEach((r, i) => {
      expect({ command: commands[i], code: r.code }).toEqual({ command: commands[i], code: 0 });
      expect(r.stdout).toContain('Usage: otel-kafka-jaeger');
    });
    expect(results[1]!.stdout).toContain('--sink-type');
    expect(results[2]!.stdout).toContain('--from');
  });

  it('exits 2 naming the problem on bad arguments', async () => {
    const cases: [string[], string][] = [
      [['forward', '--nope'], '--nope'],
      [['topic', 'create', 't', '--partitions', 'many'], '--partitions'],
      [['replay', '--brokers', BROKERS], '--from is required'],
      [['replay', '--from', 'yesterday-ish'], '--from'],
      [['lag', '--group'], '--group'],
      [['dlq', 'frob'], 'frob'],
      [['forward', '--sink-type', 'carrier-pigeon'], '--sink-type'],
      [['frobnicate'], 'frobnicate'],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    results.forEach((r, i) => {
      const [args, problem] = cases[i]!;
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain(problem);
    });
  });

  it('names what it tried, the connection problem, the brokers and the remedy when Kafka is unreachable, within --timeout', async () => {
    // Port 1 on loopback: nothing listens, every connect is refused at once.
    const cases: [string[], RegExp][] = [
      [['lag', '--group', 'g1'], /could not read the lag of group 'g1' on topic 'otlp_spans': Local: Timed out/],
      [
        ['topic', 'create', 'fresh'],
        /could not create topic 'fresh': Topic creation errors \(fresh: Local: Timed out\)/,
      ],
      [['dlq', 'count'], /could not read the offsets of topic 'otlp_spans\.dlq'/],
    ];
    const started = Date.now();
    const results = await Promise.all(
      cases.map(([args]) => runCli([...args, '--brokers', '127.0.0.1:1', '--timeout', '1500'])),
    );
    results.forEach((r, i) => {
      const [args, what] = cases[i]!;
      expect({ args, code: r.code }).toEqual({ args, code: 1 });
      expect(r.stderr).toMatch(what);
      expect(r.stderr).toMatch(/Connect to ipv4#127\.0\.0\.1:1 failed: Connection refused/);
      expect(r.stderr).toContain('brokers 127.0.0.1:1 (security protocol plaintext)');
      expect(r.stderr).toContain('--timeout <ms> waits longer than 1500 ms');
    });
    // Bounded by --timeout (plus start-up), not the 10 s default.
    expect(Date.now() - started).toBeLessThan(9_000);
  });

  it('names the file, line and column of a bad --config file, and never prints its content', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'okj-cli-config-'));
    const secret = 'Tr0ub4dor-and-3';
    const config = join(dir, 'forwarder.json');
    writeFileSync(config, `{\n  "kafka": {\n    "sasl": { "username": "svc", "password": ${secret} }\n  }\n}\n`);
    const commands = [['forward'], ['replay', '--from', '0'], ['topic', 'create', 't'], ['lag'], ['dlq', 'count']];
    const results = await Promise.all(commands.map((c) => runCli([...c, '--config', config])));
    results.forEach((r, i) => {
      expect({ command: commands[i], code: r.code }).toEqual({ command: commands[i], code: 2 });
      expect(r.stderr).toContain(`'${config}' is not valid JSON at line 3, column 46`);
      expect(r.stderr + r.stdout).not.toContain(secret);
    });

    const passwd = await runCli(['forward', '--config', '/etc/passwd']);
    expect(passwd.code).toBe(2);
    expect(passwd.stderr).toContain("'/etc/passwd' is not valid JSON at line 1, column 1");
    expect(passwd.stderr + passwd.stdout).not.toContain('root:');
  });

  it('creates a topic (once) and shows the lag of a fresh group', async () => {
    const topic = uniqueName('okj-cli-topic');
    const args = ['topic', 'create', topic, '--partitions', '2', '--retention-hours', '1', '--compression', 'zstd'];
    const created = await runCli([...args, '--max-message-bytes', '2000000', '--brokers', BROKERS]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(jsonLines(created.stdout)[0]).toMatchObject({
      created: topic,
      partitions: 2,
      config: { 'retention.ms': '3600000', 'compression.type': 'zstd', 'max.message.bytes': '2000000' },
    });
    expect((await endOffsets(topic)).size).toBe(2);

    const again = await runCli(['topic', 'create', topic, '--brokers', BROKERS]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');

    await produceRaw(topic, [
      { value: 'a', partition: 0 },
      { value: 'b', partition: 0 },
      { value: 'c', partition: 1 },
    ]);
    const group = uniqueName('okj-cli-group');
    // This may be the first group of a just-started cluster: its coordinator (and __consumer_offsets) is created
    // now. lag exited 1 here once on a loaded CI machine right after the stack started; a slow first coordinator
    // is the likely cause, so this read gets more than the default 10 s.
    const lag = await runCli(
      ['lag', '--group', group, '--topic', topic, '--brokers', BROKERS, '--json', '--timeout', '30000'],
      {
        timeoutMillis: 45_000,
      },
    );
    // The whole answer, so a failure shows what the command said.
    expect({ code: lag.code, stderr: lag.stderr }).toEqual({ code: 0, stderr: '' });
    expect(jsonLines(lag.stdout)[0]).toEqual({
      group,
      topic,
      lag: 3,
      partitions: [
        { partition: 0, committed: null, end: 2, lag: 2 },
        { partition: 1, committed: null, end: 1, lag: 1 },
      ],
    });
    const table = await runCli(['lag', '--group', group, '--topic', topic, '--brokers', BROKERS]);
    expect({ code: table.code, stderr: table.stderr }).toEqual({ code: 0, stderr: '' });
    expect(table.stdout).toMatch(/PARTITION\s+COMMITTED\s+END\s+LAG/);
  });

  it('forward: delivers every span, stops on SIGTERM with exit 0, and leaves no lag', async () => {
    const topic = await createTopic({ prefix: 'okj-cli-fwd', partitions: 2 });
    const service = uniqueName('cli-forward');
    const traces = makeTraces(service, 30);
    await produceRaw(topic, traceRecords(traces));
    const group = uniqueName('okj-cli-fwd-group');

    const child = spawnCli([
      'forward',
      '--brokers',
      BROKERS,
      '--topic',
      topic,
      '--group',
      group,
      '--sink-url',
      endpoints.jaegerOtlpHttpUrl,
    ]);
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.resume();
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await waitForAllSpans(ledgerOf(traces), service, { timeoutMillis: 30_000 });
      expect(jsonLines(stdout).some((l) => l.msg === 'forwarding' && l.topic === topic && l.group === group)).toBe(
        true,
      );
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 20_000)));
      const code = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const lines = jsonLines(stdout);
    expect(lines.every((l) => typeof l.time === 'string' && typeof l.level === 'string')).toBe(true);
    expect(lines.some((l) => l.msg === 'stopped')).toBe(true);

    const lag = await runCli(['lag', '--group', group, '--topic', topic, '--brokers', BROKERS, '--json']);
    // The whole answer, so a failure shows what the command said.
    expect({ code: lag.code, stderr: lag.stderr }).toEqual({ code: 0, stderr: '' });
    expect(jsonLines(lag.stdout)[0]).toMatchObject({ lag: 0 });
    // It drained and committed before exiting: Jaeger (read raw) holds each span exactly once.
    const account = await accountInJaeger(ledgerOf(traces), service);
    expect({ missing: account.missing, duplicates: account.duplicates, unexpected: account.unexpected }).toEqual({
      missing: 0,
      duplicates: 0,
      unexpected: 0,
    });
  });

  it('dlq: counts, peeks and redrives dead letters without their provenance headers', async () => {
    const source = await createTopic({ prefix: 'okj-cli-src' });
    const dlq = await createTopic({ name: `${source}.dlq`, partitions: 2 });
    const h = DEAD_LETTER_HEADERS;
    await produceRaw(
      dlq,
      [0, 1, 2].map((i) => ({
        key: `trace-${i}`,
        value: Buffer.alloc(10 + i, i),
        partition: i % 2,
        headers: {
          'content-type': 'application/x-protobuf',
          [h.sourceTopic]: source,
          [h.sourcePartition]: '0',
          [h.sourceOffset]: String(100 + i),
          [h.errorCode]: 'SINK_FAILED',
          [h.errorMessage]: `boom ${i}`,
          [h.attempts]: '1',
        },
      })),
    );

    // The default dead-letter topic is <kafka.topic>.dlq, here from the environment.
    const count = await runCli(['dlq', 'count', '--brokers', BROKERS], { env: { OTEL_EXPORTER_KAFKA_TOPIC: source } });
    expect(count.code).toBe(0);
    expect(jsonLines(count.stdout)[0]).toMatchObject({ topic: dlq, count: 3 });

    const peek = await runCli(['dlq', 'peek', '--topic', dlq, '--limit', '2', '--brokers', BROKERS]);
    expect(peek.code).toBe(0);
    const peeked = jsonLines(peek.stdout);
    expect(peeked).toHaveLength(2);
    for (const p of peeked) {
      expect(p.key).toMatch(/^trace-\d$/);
      expect(p.error).toMatch(/^boom \d$/);
      expect(p.headers).toMatchObject({ [h.sourceTopic]: source, [h.errorCode]: 'SINK_FAILED' });
      expect(p.valueBytes).toBe(10 + Number(String(p.key).slice(-1)));
    }

    const redrive = await runCli(['dlq', 'redrive', '--topic', dlq, '--brokers', BROKERS]);
    expect(redrive.stderr).toBe('');
    expect(redrive.code).toBe(0);
    expect(jsonLines(redrive.stdout)[0]).toMatchObject({ redriven: 3, skipped: 0, toTopics: { [source]: 3 } });

    const redriven = await consumeRaw(source, 3, { timeoutMillis: 15_000 });
    expect(redriven.map((r) => r.key?.toString()).sort()).toEqual(['trace-0', 'trace-1', 'trace-2']);
    for (const r of redriven) {
      const i = Number(r.key!.toString().slice(-1));
      expect(r.value).toEqual(Buffer.alloc(10 + i, i));
      expect(r.headers['content-type']?.toString()).toBe('application/x-protobuf');
      expect(Object.keys(r.headers).filter((k) => k.startsWith('okj.'))).toEqual([]);
    }
    // Reading the dead letters moved nothing: they are all still there.
    const after = await runCli(['dlq', 'count', '--topic', dlq, '--brokers', BROKERS]);
    expect(jsonLines(after.stdout)[0]).toMatchObject({ count: 3 });
  });

  it("dlq redrive --to-topic: the forwarder's dead letters land there as produced, provenance removed, the source untouched", async () => {
    const source = await createTopic({ prefix: 'okj-cli-redrive-src' });
    const service = uniqueName('cli-redrive');
    const good = makeTraces(service, 6, 2);
    const noSpan = Buffer.from(traceRecords(makeTraces(uniqueName('victim'), 1, 2))[0]!.value as Buffer);
    noSpan[0] = 0x1a; // resource_spans (field 1) becomes field 3: a request holding no span
    // Each pill carries its own `origin`; keys, values and headers (binary too) must come back byte for byte.
    const pills: RawRecord[] = [
      {
        key: 'pill-random',
        value: Buffer.concat([Buffer.from([0x0a, 0xff, 0xff, 0x03]), randomBytes(120)]),
        headers: {
          'content-type': 'application/x-protobuf',
          origin: 'random',
          'x-bin': Buffer.from([0, 255, 128, 10]),
        },
      },
      {
        key: null,
        value: Buffer.concat([Buffer.from([0x0a, 0xff, 0xff, 0x03]), randomBytes(40)]),
        headers: { origin: 'no-key' },
      },
      {
        key: Buffer.from([0xc3, 0x28, 0x00]),
        value: noSpan,
        headers: { 'content-type': 'application/x-protobuf', origin: 'no-span' },
      },
      {
        key: 'pill-json',
        value: Buffer.from('{"resourceSpans": ['),
        headers: { 'content-type': 'application/json', origin: 'json' },
      },
    ];
    const originals = new Map(
      pills.map((p) => [
        String(p.headers!.origin),
        {
          key: p.key === null ? null : Buffer.from(p.key as string | Buffer),
          value: Buffer.from(p.value as Buffer),
          headers: Object.fromEntries(Object.entries(p.headers!).map(([k, v]) => [k, Buffer.from(v)])),
        },
      ]),
    );
    const records: RawRecord[] = [];
    traceRecords(good).forEach((r, i) => records.push(r, ...(pills[i] ? [pills[i]] : [])));
    await produceRaw(source, records);

    // A real forwarder dead-letters them (with its okj.* provenance headers).
    const config = forwarderConfig(source);
    const forwarder = await startForwarder(config);
    await waitForAllSpans(ledgerOf(good), service, { timeoutMillis: 30_000 });
    await waitForCommitsAtEnd(config.forwarder!.groupId!, source);
    await forwarder.stop();
    const dlq = forwarder.deadLetterTopic;
    const dlqCount = async () => [...(await endOffsets(dlq)).values()].reduce((a, b) => a + b, 0);
    expect(await dlqCount()).toBe(pills.length);
    const dead = await consumeRaw(dlq, pills.length);
    expect(dead.every((d) => Object.keys(d.headers).some((k) => k.startsWith('okj.')))).toBe(true);

    const target = await createTopic({ prefix: 'okj-cli-redrive-to' });
    const sourceEnd = await endOffsets(source);
    const redrive = await runCli(['dlq', 'redrive', '--topic', dlq, '--to-topic', target, '--brokers', BROKERS]);
    expect(redrive.stderr).toBe('');
    expect(redrive.code).toBe(0);
    expect(jsonLines(redrive.stdout)).toEqual([
      { topic: dlq, redriven: pills.length, skipped: 0, toTopics: { [target]: pills.length } },
    ]);

    // Exactly the originals, once each: the target's end offsets say how many records it holds.
    expect([...(await endOffsets(target)).values()].reduce((a, b) => a + b, 0)).toBe(pills.length);
    const redriven = await consumeRaw(target, pills.length);
    const got = new Map(
      redriven.map((r) => [r.headers.origin?.toString() ?? '', { key: r.key, value: r.value, headers: r.headers }]),
    );
    expect(got).toEqual(originals);
    // Not written to the source topic (every dead letter names it in okj.source-topic), nor taken from the DLQ.
    expect(await endOffsets(source)).toEqual(sourceEnd);
    expect(await dlqCount()).toBe(pills.length);
  });

  it('replay --from re-sends the records from that time on, with a JSON summary', async () => {
    const topic = await createTopic({ prefix: 'okj-cli-replay', partitions: 2 });
    await produceRaw(topic, traceRecords(makeTraces(uniqueName('cli-replay-before'), 10)));
    await delay(20); // record timestamps have millisecond resolution
    const from = new Date().toISOString();
    await delay(20);
    const service = uniqueName('cli-replay');
    const traces = makeTraces(service, 15);
    await produceRaw(topic, traceRecords(traces));

    const result = await runCli(
      ['replay', '--from', from, '--brokers', BROKERS, '--topic', topic, '--sink-url', endpoints.jaegerOtlpHttpUrl],
      { timeoutMillis: 45_000 },
    );
    expect(result.code).toBe(0);
    const summary = jsonLines(result.stdout);
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({ topic, from, records: 15, undeliverable: 0, partitions: 2 });
    // stderr is not a terminal here: progress comes as JSON lines.
    expect(jsonLines(result.stderr).some((l) => l.msg === 'replay progress')).toBe(true);
    // Replay returned after the sink accepted all it sent: each span is there exactly once.
    const account = await waitForAllSpans(ledgerOf(traces), service, { timeoutMillis: 20_000 });
    expect({ duplicates: account.duplicates, unexpected: account.unexpected }).toEqual({
      duplicates: 0,
      unexpected: 0,
    });
  });

  it('replay --from --to on a terminal: a progress bar, and only the records of that range', async () => {
    const topic = await createTopic({ prefix: 'okj-cli-replay-tty', partitions: 2 });
    const before = makeTraces(uniqueName('cli-tty-before'), 10);
    const insideService = uniqueName('cli-tty-inside');
    const inside = makeTraces(insideService, 15);
    const afterService = uniqueName('cli-tty-after');
    const after = makeTraces(afterService, 10);
    const spread = (traces: typeof before) => traceRecords(traces).map((r, i) => ({ ...r, partition: i % 2 }));
    await produceRaw(topic, spread(before));
    await delay(20); // record timestamps have millisecond resolution
    const from = new Date().toISOString();
    await delay(20);
    await produceRaw(topic, spread(inside));
    await delay(20);
    const to = new Date().toISOString();
    await delay(20);
    await produceRaw(topic, spread(after));

    // `script` runs the CLI on a pseudo-terminal (util-linux, part of every Debian system).
    const cli = ['replay', '--from', from, '--to', to, '--brokers', BROKERS, '--topic', topic];
    const command = [process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...cli, '--sink-url']
      .concat(endpoints.jaegerOtlpHttpUrl)
      .map((a) => `'${a}'`)
      .join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`replay on a terminal timed out: ${output}`));
      }, 45_000);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });

    expect({ code, output }).toMatchObject({ code: 0 });
    // The bar is redrawn in place (carriage returns) and ends complete.
    expect(output).toMatch(/\r\[#{30}\] 2\/2 partitions 15 records 75 spans 0 undeliverable/);
    const summary = output
      .split(/\r?\n/)
      .map((line) => line.slice(line.lastIndexOf('\r') + 1).trim())
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(summary).toEqual([expect.objectContaining({ topic, from, to, records: 15, undeliverable: 0 })]);
    const account = await waitForAllSpans(ledgerOf(inside), insideService, { timeoutMillis: 20_000 });
    expect({ missing: account.missing, duplicates: account.duplicates }).toEqual({ missing: 0, duplicates: 0 });
    // Nothing after --to was sent (replay returned only after the sink accepted everything it sent).
    expect((await accountInJaeger(ledgerOf(after), afterService)).found.size).toBe(0);
  });
});
