import { SinkError } from '../../../src/errors/errors';
import type { PartitionOffset } from '../../../src/forwarder/intake';
import { OFFSET_BEGINNING, PauseController } from '../../../src/forwarder/pause-controller';
import type { PauseTarget } from '../../../src/forwarder/pause-controller';
import { partition, silentLogger } from './fixtures';

/** Records every call; a resume's seek completes when the test says so. */
class FakeConsumer implements PauseTarget {
  readonly calls: string[] = [];
  committedOffset: number | undefined;
  #seeks: (() => void)[] = [];

  pause(_topic: string, p: number): void {
    this.calls.push(`pause ${p}`);
  }

  async resumeAt(_topic: string, p: number, offset: number, stillWanted: () => boolean): Promise<void> {
    this.calls.push(`seek ${p} ${offset}`);
    await new Promise<void>((resolve) => this.#seeks.push(resolve));
    if (stillWanted()) this.calls.push(`resume ${p}`);
  }

  committed(partitions: { topic: string; partition: number }[]): Promise<PartitionOffset[]> {
    this.calls.push('committed');
    return Promise.resolve(partitions.map((p) => ({ ...p, offset: this.committedOffset ?? -1001 })));
  }

  /** Lets the pending seeks complete, and the resumes after them run. */
  async finishSeeks(): Promise<void> {
    const seeks = this.#seeks;
    this.#seeks = [];
    for (const s of seeks) s();
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

const failure = new SinkError('503', { retriable: true, httpStatus: 503 });

describe('PauseController', () => {
  it('pauses once for several reasons and resumes only when none is left', async () => {
    const consumer = new FakeConsumer();
    const pauses = new PauseController(silentLogger);
    pauses.attach(consumer);
    const p = partition(3);
    p.ledger.track(41);
    pauses.add(p, 'buffer-full');
    pauses.add(p, 'stopping');
    expect(consumer.calls).toEqual(['pause 3']);
    expect(p.paused).toBe(true);
    pauses.remove(p, 'buffer-full');
    expect(consumer.calls).toEqual(['pause 3']);
    pauses.remove(p, 'stopping');
    await consumer.finishSeeks();
    // At the record after the highest one received: none is skipped, whatever librdkafka dropped at the pause.
    expect(consumer.calls).toEqual(['pause 3', 'seek 3 42', 'resume 3']);
    expect(p.paused).toBe(false);
  });

  it('resumes a partition that received nothing at the committed offset, or the beginning', async () => {
    const consumer = new FakeConsumer();
    const pauses = new PauseController(silentLogger);
    pauses.attach(consumer);
    const [a, b] = [partition(0), partition(1)];
    pauses.add(a, 'buffer-full');
    pauses.remove(a, 'buffer-full');
    await settle();
    await consumer.finishSeeks();
    expect(consumer.calls).toEqual(['pause 0', 'committed', `seek 0 ${OFFSET_BEGINNING}`, 'resume 0']);

    consumer.calls.length = 0;
    consumer.committedOffset = 17;
    pauses.add(b, 'buffer-full');
    pauses.remove(b, 'buffer-full');
    await settle();
    await consumer.finishSeeks();
    expect(consumer.calls).toEqual(['pause 1', 'committed', 'seek 1 17', 'resume 1']);
  });

  it('never lets a resume in progress override a later pause', async () => {
    const consumer = new FakeConsumer();
    const pauses = new PauseController(silentLogger);
    pauses.attach(consumer);
    const p = partition(0);
    p.ledger.track(5);
    pauses.add(p, 'buffer-full');
    pauses.remove(p, 'buffer-full');
    pauses.add(p, 'stopping');
    await consumer.finishSeeks();
    expect(consumer.calls).toEqual(['pause 0', 'seek 0 6', 'pause 0']);
    expect(p.paused).toBe(true);
  });

  it('counts blockers: the partition resumes when the last one is gone, and keeps the error', async () => {
    const consumer = new FakeConsumer();
    const pauses = new PauseController(silentLogger);
    pauses.attach(consumer);
    const p = partition(2);
    p.ledger.track(0);
    pauses.block(p, failure);
    pauses.block(p, failure);
    expect(p.blockers).toBe(2);
    expect(p.lastError?.code).toBe('503');
    pauses.unblock(p);
    expect(p.paused).toBe(true);
    pauses.unblock(p);
    await consumer.finishSeeks();
    expect(consumer.calls).toEqual(['pause 2', 'seek 2 1', 'resume 2']);
    pauses.unblock(p);
    expect(p.blockers).toBe(0);
  });

  it('does not touch revoked partitions, nor any before a consumer is attached', () => {
    const consumer = new FakeConsumer();
    const pauses = new PauseController(silentLogger);
    const early = partition(0);
    pauses.add(early, 'stopping');
    expect(early.paused).toBe(false);
    pauses.attach(consumer);
    const revoked = partition(1);
    revoked.revoked = true;
    pauses.add(revoked, 'stopping');
    expect(consumer.calls).toEqual([]);
  });
});
