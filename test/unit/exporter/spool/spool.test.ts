import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SpoolError } from '../../../../src/errors/errors';
import { encodedSize } from '../../../../src/exporter/spool/segment-format';
import type { SpoolRecord } from '../../../../src/exporter/spool/segment-format';
import { Spool } from '../../../../src/exporter/spool/spool';
import type { SpoolSettings } from '../../../../src/exporter/spool/spool';

let dir: string;
const open: Spool[] = [];
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'okj-spool-'))));
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

function spool(settings: Partial<SpoolSettings> = {}): Spool {
  const s = Spool.open({ directory: dir, maxBytes: 1024 * 1024, fsync: 'batch', segmentBytes: 64 * 1024, ...settings });
  open.push(s);
  return s;
}

function record(i: number, bytes = 1000): SpoolRecord {
  return {
    key: null,
    partition: i % 3,
    value: Buffer.alloc(bytes, i % 256),
    headers: { 'content-type': 'application/x-protobuf' },
    spanCount: 2,
    spooledAtMillis: Date.now(),
  };
}

const segmentFiles = (): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.seg'))
    .sort();

describe('Spool', () => {
  it('appends, rolls segments at segmentBytes, and hands out the oldest sealed segment first', async () => {
    const s = spool({ segmentBytes: 10_000 });
    for (let i = 0; i < 25; i++) await s.append([record(i)]);
    expect(segmentFiles().length).toBe(3);
    expect(s.stats.messages).toBe(25);
    expect(s.stats.bytes).toBe(segmentFiles().reduce((n, f) => n + statSync(join(dir, f)).size, 0));
    const first = await s.oldest();
    const { records } = await s.read(first!);
    expect(records.map((r) => r.value[0])).toEqual(Array.from({ length: records.length }, (_, i) => i));
    await s.remove(first!);
    expect(segmentFiles().length).toBe(2);
    expect(s.stats.messages).toBe(25 - records.length);
  });

  it('the oldest segment, still being written, is sealed: later appends start a new one', async () => {
    const s = spool();
    await s.append([record(1)]);
    const seg = await s.oldest();
    await s.append([record(2)]);
    expect(segmentFiles().length).toBe(2);
    expect((await s.read(seg!)).records).toHaveLength(1);
  });

  it('refuses an append past maxBytes, writing nothing; what is spooled stays', async () => {
    const size = encodedSize(record(0));
    const s = spool({ maxBytes: 64 * 1024, segmentBytes: 16 * 1024 });
    let accepted = 0;
    let refused: unknown;
    for (let i = 0; i < 100 && !refused; i++) {
      await s.append([record(i)]).then(
        () => accepted++,
        (err: unknown) => (refused = err),
      );
    }
    expect(refused).toBeInstanceOf(SpoolError);
    expect((refused as SpoolError).code).toBe('SPOOL_FULL');
    expect(accepted).toBe(Math.floor((64 * 1024) / size));
    expect(s.stats.bytes).toBe(accepted * size);
    expect(s.stats.bytes).toBeLessThanOrEqual(64 * 1024);
    // The oldest records are still there, in order.
    const first = await s.oldest();
    expect((await s.read(first!)).records[0]!.value[0]).toBe(0);
  });

  it('a restart finds the segments (counted once recovered), never appends to them, and reports a torn tail', async () => {
    const before = spool({ segmentBytes: 5_000 });
    for (let i = 0; i < 12; i++) await before.append([record(i)]);
    await before.close();
    open.splice(0);
    const files = segmentFiles();
    const last = join(dir, files.at(-1)!);
    truncateSync(last, statSync(last).size - 7); // a crash in the middle of the last append
    writeFileSync(join(dir, 'notes.txt'), 'not a segment');

    const after = spool({ segmentBytes: 5_000 });
    expect(after.segments.map((s) => s.path)).toEqual(files.map((f) => join(dir, f)));
    expect(after.stats.messages).toBe(0);
    const damaged = await after.recover();
    expect(damaged).toHaveLength(1);
    expect(damaged[0]!.damage.truncatedTail).toBe(true);
    expect(after.stats.messages).toBe(11);
    await after.append([record(99)]);
    expect(segmentFiles()).toHaveLength(files.length + 1);
  });

  it('a second Spool on the same directory is refused while the first is open', async () => {
    const s = spool();
    expect(() => Spool.open(s.settings)).toThrow(/already used by another exporter in this process/);
    await s.close();
    open.splice(0);
    spool();
  });

  it('close() waits for appends in flight and keeps the files', async () => {
    const s = spool({ fsync: 'never' });
    const appends = Array.from({ length: 10 }, (_, i) => s.append([record(i)]));
    await s.close();
    open.splice(0);
    await Promise.all(appends);
    const again = spool();
    await again.recover();
    expect(again.stats.messages).toBe(10);
  });
});
