import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ProduceError } from '../../../../src/errors/errors';
import type { SpoolRecord } from '../../../../src/exporter/spool/segment-format';
import { Spool } from '../../../../src/exporter/spool/spool';
import { SpoolDrainer } from '../../../../src/exporter/spool/spool-drainer';
import type { DrainerHooks } from '../../../../src/exporter/spool/spool-drainer';
import { fixedDelay } from '../../../../src/retry/fixed-delay';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

let dir: string;
let spool: Spool;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'okj-drain-'));
  spool = Spool.open({ directory: dir, maxBytes: 1024 * 1024, fsync: 'never', segmentBytes: 4_000 });
});
afterEach(async () => {
  await spool.close();
  rmSync(dir, { recursive: true, force: true });
});

function record(i: number): SpoolRecord {
  return {
    key: `k${i}`,
    partition: i % 4,
    value: Buffer.from(String(i).padStart(500, '.')),
    headers: { h: 'v' },
    spanCount: 1,
    spooledAtMillis: Date.now(),
  };
}
const idOf = (r: SpoolRecord): number => Number(r.value.toString().replace(/^\.+/, ''));

/** A fake Kafka: `up` decides; a down send acknowledges the first `partial` records, then fails. */
class FakeKafka {
  up = true;
  partial = 0;
  delivered: number[] = [];
  failures = 0;
  sends: { at: number; bytes: number }[] = [];

  hooks(extra: Partial<DrainerHooks> = {}): DrainerHooks {
    return {
      send: async (records, onAck) => {
        this.sends.push({ at: performance.now(), bytes: records.reduce((n, r) => n + r.value.length, 0) });
        await Promise.resolve();
        if (!this.up) {
          for (let i = 0; i < Math.min(this.partial, records.length); i++) {
            this.delivered.push(idOf(records[i]!));
            onAck(i);
          }
          throw new ProduceError('broker down', { retriable: true });
        }
        records.forEach((r, i) => {
          this.delivered.push(idOf(r));
          onAck(i);
        });
      },
      onDelivered: () => undefined,
      onFailure: () => this.failures++,
      onDropped: () => undefined,
      onDamage: () => undefined,
      ...extra,
    };
  }
}

function drainer(
  kafka: FakeKafka,
  opts: { bytesPerSecond?: number; chunkBytes?: number } = {},
  hooks = {},
): SpoolDrainer {
  return new SpoolDrainer(spool, kafka.hooks(hooks), {
    bytesPerSecond: opts.bytesPerSecond ?? 100 * 1024 * 1024,
    chunkBytes: opts.chunkBytes ?? 2_000,
    backoff: fixedDelay(5),
    logger: quiet,
  });
}

async function fill(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await spool.append([record(i)]);
}

describe('SpoolDrainer', () => {
  it('delivers every record oldest first and deletes each segment once drained', async () => {
    await fill(30);
    const kafka = new FakeKafka();
    const d = drainer(kafka);
    d.wake();
    await d.idle();
    expect(kafka.delivered).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(readdirSync(dir).filter((f) => f.endsWith('.seg'))).toEqual([]);
    expect(spool.stats).toEqual({ bytes: 0, messages: 0, oldestMillis: undefined });
  });

  it('Kafka down: keeps the segment, backs off, resends only what was not acknowledged, once up', async () => {
    await fill(10);
    const kafka = new FakeKafka();
    kafka.up = false;
    kafka.partial = 2;
    const d = drainer(kafka);
    d.wake();
    const deadline = Date.now() + 5_000;
    while (kafka.failures < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(spool.segments.length).toBeGreaterThan(0);
    kafka.up = true;
    await d.idle();
    // Each record once: the acknowledged ones of a failed send are not sent again.
    expect([...kafka.delivered].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(spool.segments).toEqual([]);
  });

  it('a drained segment whose deletion fails is deleted later, never delivered again', async () => {
    await fill(10);
    const kafka = new FakeKafka();
    const remove = spool.remove.bind(spool);
    let refusals = 2;
    jest.spyOn(spool, 'remove').mockImplementation((segment) => {
      if (refusals-- > 0) return Promise.reject(new Error('EACCES: the test refuses'));
      return remove(segment);
    });
    const d = drainer(kafka);
    d.wake();
    await d.idle();
    expect(refusals).toBeLessThan(0);
    expect(kafka.delivered).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(spool.segments).toEqual([]);
  });

  it('paces sends to bytesPerSecond', async () => {
    await fill(8); // 4,000 value bytes
    const kafka = new FakeKafka();
    const d = drainer(kafka, { bytesPerSecond: 10_000, chunkBytes: 1_000 });
    const t0 = performance.now();
    d.wake();
    await d.idle();
    // 4 chunks of 1,000 bytes at 10,000 B/s: the last starts >= 300 ms after the first.
    expect(kafka.sends).toHaveLength(4);
    expect(kafka.sends.at(-1)!.at - kafka.sends[0]!.at).toBeGreaterThanOrEqual(290);
    expect(performance.now() - t0).toBeLessThan(3_000);
  });

  it('a wake during a pass picks up segments appended meanwhile', async () => {
    await fill(3);
    const kafka = new FakeKafka();
    const d = drainer(kafka, { bytesPerSecond: 50_000, chunkBytes: 500 });
    d.wake();
    await spool.append([record(100)]);
    d.wake();
    await d.idle();
    expect(kafka.delivered).toEqual([0, 1, 2, 100]);
  });

  it('records Kafka rejects for good are dropped after a few attempts, reported, not retried forever', async () => {
    await fill(2);
    const dropped: number[] = [];
    const kafka = new FakeKafka();
    const d = new SpoolDrainer(
      spool,
      kafka.hooks({
        send: () => Promise.reject(new ProduceError('record too large', { kafkaName: 'ERR_MSG_SIZE_TOO_LARGE' })),
        onDropped: (records: readonly SpoolRecord[]) => dropped.push(...records.map(idOf)),
      }),
      {
        bytesPerSecond: 1e9,
        chunkBytes: 2_000,
        backoff: fixedDelay(5),
        declinedDelayMillis: 5,
        isRejection: (err) => (err as ProduceError).kafkaName === 'ERR_MSG_SIZE_TOO_LARGE',
        logger: quiet,
      },
    );
    d.wake();
    await d.idle();
    expect(dropped).toEqual([0, 1]);
    expect(kafka.failures).toBe(4); // one chunk holding both: 4 backoffs, dropped at the 5th rejection
    expect(spool.segments).toEqual([]);
  });

  it('any other failure, even a non-retriable one (authentication), is retried, never dropped', async () => {
    await fill(2);
    const kafka = new FakeKafka();
    let failing = 8;
    const d = new SpoolDrainer(
      spool,
      kafka.hooks({
        send: (records: readonly SpoolRecord[], onAck: (i: number) => void) => {
          if (failing-- > 0)
            return Promise.reject(new ProduceError('SASL authentication failed', { retriable: false }));
          records.forEach((r, i) => {
            kafka.delivered.push(idOf(r));
            onAck(i);
          });
          return Promise.resolve();
        },
        onDropped: () => {
          throw new Error('dropped');
        },
      }),
      {
        bytesPerSecond: 1e9,
        chunkBytes: 2_000,
        backoff: fixedDelay(1),
        declinedDelayMillis: 1,
        isRejection: () => false,
        logger: quiet,
      },
    );
    d.wake();
    await d.idle();
    expect(kafka.delivered).toEqual([0, 1]);
  });

  it('stop() ends a backoff at once and leaves the spool on disk; nudge() ends a backoff early', async () => {
    await fill(3);
    const kafka = new FakeKafka();
    kafka.up = false;
    const d = new SpoolDrainer(spool, kafka.hooks(), {
      bytesPerSecond: 1e9,
      chunkBytes: 10_000,
      backoff: fixedDelay(60_000),
      logger: quiet,
    });
    d.wake();
    while (kafka.failures < 1) await new Promise((r) => setTimeout(r, 5));
    kafka.up = true;
    const t0 = performance.now();
    d.nudge();
    await d.idle();
    expect(performance.now() - t0).toBeLessThan(1_000);
    expect(kafka.delivered).toEqual([0, 1, 2]);

    await fill(2);
    kafka.up = false;
    d.wake();
    while (kafka.failures < 2) await new Promise((r) => setTimeout(r, 5));
    await d.stop();
    expect(spool.segments.length).toBe(1);
  });
});
