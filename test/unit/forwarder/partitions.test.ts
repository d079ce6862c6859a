import type { PartitionOffset } from '../../../src/forwarder/intake';
import type { PartitionState } from '../../../src/forwarder/partition-state';
import { Partitions } from '../../../src/forwarder/partitions';
import { PauseController } from '../../../src/forwarder/pause-controller';
import { message, silentLogger } from './fixtures';

class FakeConsumer {
  readonly paused = new Set<number>();

  pause(_topic: string, p: number): void {
    this.paused.add(p);
  }

  resumeAt(_topic: string, p: number, _offset: number, stillWanted: () => boolean): Promise<void> {
    if (stillWanted()) this.paused.delete(p);
    return Promise.resolve();
  }

  committed(): Promise<PartitionOffset[]> {
    return Promise.resolve([]);
  }
}

function setup(maxBufferedBytes: number): { partitions: Partitions; consumer: FakeConsumer } {
  const consumer = new FakeConsumer();
  const pauses = new PauseController(silentLogger);
  pauses.attach(consumer);
  const partitions = new Partitions(pauses, silentLogger, maxBufferedBytes);
  partitions.assigned([
    { topic: 't', partition: 0 },
    { topic: 't', partition: 1 },
  ]);
  return { partitions, consumer };
}

const states = (p: Partitions): Map<number, PartitionState> => new Map([...p.values()].map((s) => [s.partition, s]));

describe('Partitions', () => {
  it('queues records of assigned partitions, completes empty ones at once, and ignores redeliveries', () => {
    const { partitions } = setup(1_000);
    partitions.add(
      [
        message(0, 0, Buffer.alloc(10)),
        message(0, 1, null),
        message(1, 5, Buffer.alloc(20)),
        message(0, 0, Buffer.alloc(10)),
      ],
      0,
      () => 99,
    );
    const s = states(partitions);
    expect([s.get(0)!.queue.length, s.get(1)!.queue.length]).toEqual([1, 1]);
    expect(s.get(0)!.ledger.highestTracked).toBe(1);
    expect(s.get(0)!.ledger.inFlight).toBe(1);
    expect(partitions.bufferedBytes).toBe(30);
    expect(s.get(0)!.highWatermark).toBe(99);
  });

  it('asks a consume call for the records that fit in the free buffer at the average record size', () => {
    const { partitions } = setup(100_000);
    // Nothing seen yet: a first call of moderate size, whatever the cap.
    expect(partitions.recordsWanted(2_000)).toBe(100);
    expect(partitions.recordsWanted(50)).toBe(50);
    partitions.add([message(0, 0, Buffer.alloc(10_000)), message(1, 0, Buffer.alloc(10_000))], 0, () => undefined);
    // 80,000 bytes free at 10,000 a record.
    expect(partitions.recordsWanted(2_000)).toBe(8);
    expect(partitions.recordsWanted(5)).toBe(5);
    // The average follows the sizes: (10,000 + 2,000) / 2 = 6,000 a record; 78,000 bytes free → 13.
    partitions.add([message(0, 1, Buffer.alloc(1_000)), message(1, 1, Buffer.alloc(3_000))], 0, () => undefined);
    expect(partitions.recordsWanted(2_000)).toBe(13);
    // Full: still one, so that the loop keeps polling (partitions paused for it return nothing).
    partitions.add([message(0, 2, Buffer.alloc(90_000))], 0, () => undefined);
    expect(partitions.bufferedBytes).toBeGreaterThan(100_000);
    expect(partitions.recordsWanted(2_000)).toBe(1);
  });

  it('pauses every partition past the bound, leaves the rest of the call for later, and resumes below half', async () => {
    const { partitions, consumer } = setup(25);
    partitions.add(
      [
        message(0, 0, Buffer.alloc(10)),
        message(0, 1, Buffer.alloc(10)),
        message(1, 0, Buffer.alloc(10)),
        message(0, 2, Buffer.alloc(10)),
      ],
      0,
      () => undefined,
    );
    const s = states(partitions);
    // The third record went over the bound: nothing after it is queued (nor tracked, so it is read again).
    expect(partitions.bufferedBytes).toBe(30);
    expect([...consumer.paused].sort()).toEqual([0, 1]);
    expect(s.get(0)!.ledger.highestTracked).toBe(1);
    const [first] = [s.get(0)!.queue.shift()!];
    partitions.release(first);
    partitions.release(first);
    expect(partitions.bufferedBytes).toBe(20);
    expect(consumer.paused.size).toBe(2);
    partitions.release(s.get(0)!.queue.shift()!);
    await Promise.resolve();
    expect(partitions.bufferedBytes).toBe(10);
    expect(consumer.paused.size).toBe(0);
  });

  it('pauses a partition assigned while the buffer is full, after the consumer took it, and resumes it with the rest', async () => {
    const { partitions, consumer } = setup(25);
    partitions.add(
      [0, 1, 2].map((o) => message(0, o, Buffer.alloc(10))),
      0,
      () => undefined,
    );
    expect([...consumer.paused].sort()).toEqual([0, 1]);
    partitions.assigned([{ topic: 't', partition: 2 }]);
    // Not before the rebalance handler's assign (it runs right after `assigned` returns).
    expect(consumer.paused.has(2)).toBe(false);
    await Promise.resolve();
    expect([...consumer.paused].sort()).toEqual([0, 1, 2]);
    // Its records are left for after the resume, like the others': the bound holds.
    partitions.add([message(2, 0, Buffer.alloc(10))], 0, () => undefined);
    expect(partitions.bufferedBytes).toBe(30);
    const s = states(partitions);
    partitions.release(s.get(0)!.queue.shift()!);
    partitions.release(s.get(0)!.queue.shift()!);
    await Promise.resolve();
    expect(consumer.paused.size).toBe(0);
    // Assigned once the buffer drained: not paused.
    partitions.assigned([{ topic: 't', partition: 3 }]);
    await Promise.resolve();
    expect(consumer.paused.size).toBe(0);
  });

  it('pauses a partition assigned while the forwarder stops', async () => {
    const { partitions, consumer } = setup(1_000);
    partitions.pauseAll('stopping');
    partitions.assigned([{ topic: 't', partition: 2 }]);
    await Promise.resolve();
    expect([...consumer.paused].sort()).toEqual([0, 1, 2]);
    expect([...states(partitions).get(2)!.pauseReasons]).toEqual(['stopping']);
    partitions.add([message(2, 0, Buffer.alloc(10))], 0, () => undefined);
    expect(partitions.bufferedBytes).toBe(0);
  });

  it('drops records of unknown or revoked partitions, and releases what a revoked one held', () => {
    const { partitions } = setup(1_000);
    partitions.add([message(0, 0, Buffer.alloc(10)), message(7, 0, Buffer.alloc(10))], 0, () => undefined);
    const revoked = partitions.statesOf([{ topic: 't', partition: 0 }]);
    partitions.revoked(revoked);
    expect(partitions.bufferedBytes).toBe(0);
    expect(revoked[0]!.revoked).toBe(true);
    expect([...partitions.values()].map((s) => s.partition)).toEqual([1]);
    partitions.add([message(0, 1, Buffer.alloc(10))], 0, () => undefined);
    expect(partitions.anyQueued()).toBe(false);
  });
});
