import { Committer, RECOMMIT_MILLIS } from '../../../src/forwarder/committer';
import type { CommitTarget } from '../../../src/forwarder/committer';
import type { PartitionOffset } from '../../../src/forwarder/intake';
import { partition, silentLogger } from './fixtures';

/** A group coordinator: stores what is committed, unless told to lose commits or to fail reading back. */
class FakeGroup implements CommitTarget {
  readonly stored = new Map<number, number>();
  readonly sent: PartitionOffset[][] = [];
  loseCommits = false;
  failReads = false;

  commit(offsets: readonly PartitionOffset[]): void {
    this.sent.push([...offsets]);
    if (!this.loseCommits) for (const o of offsets) this.stored.set(o.partition, o.offset);
  }

  committed(partitions: { topic: string; partition: number }[]): Promise<PartitionOffset[]> {
    if (this.failReads) return Promise.reject(new Error('coordinator moved'));
    return Promise.resolve(partitions.map((p) => ({ ...p, offset: this.stored.get(p.partition) ?? -1001 })));
  }
}

function withAccepted(n: number, accepted: number[]): ReturnType<typeof partition> {
  const p = partition(n);
  for (let o = 0; o < 10; o++) p.ledger.track(o);
  for (const o of accepted) p.ledger.complete(o);
  return p;
}

describe('Committer', () => {
  it('commits the position after the accepted prefix, and counts it committed once Kafka holds it', async () => {
    const group = new FakeGroup();
    const committer = new Committer(silentLogger, () => 1_000_000);
    committer.attach(group);
    const p = withAccepted(0, [0, 1, 2, 4]);
    await committer.commit([p]);
    expect(group.sent).toEqual([[{ topic: 't', partition: 0, offset: 3 }]]);
    expect(p.ledger.committed).toBe(3);
    // Nothing moved: nothing sent.
    await committer.commit([p]);
    expect(group.sent.length).toBe(1);
  });

  it('sends a lost commit again, as the read-back shows it missing', async () => {
    const group = new FakeGroup();
    const committer = new Committer(silentLogger, () => 1_000_000);
    committer.attach(group);
    const p = withAccepted(0, [0, 1]);
    group.loseCommits = true;
    await committer.commit([p]);
    expect(p.ledger.committed).toBeUndefined();
    group.loseCommits = false;
    await committer.commit([p]);
    expect(group.sent.map((s) => s[0]!.offset)).toEqual([2, 2]);
    expect(p.ledger.committed).toBe(2);
  });

  it('does not count a commit it could not read back', async () => {
    const group = new FakeGroup();
    const committer = new Committer(silentLogger, () => 1_000_000);
    committer.attach(group);
    const p = withAccepted(0, [0]);
    group.failReads = true;
    await committer.commit([p]);
    expect(p.ledger.committed).toBeUndefined();
  });

  it('commits a held position again after RECOMMIT_MILLIS', async () => {
    const group = new FakeGroup();
    let now = 1_000_000;
    const committer = new Committer(silentLogger, () => now);
    committer.attach(group);
    const p = withAccepted(0, [0]);
    await committer.commit([p]);
    now += RECOMMIT_MILLIS - 1;
    await committer.commit([p]);
    expect(group.sent.length).toBe(1);
    now += 1;
    await committer.commit([p]);
    expect(group.sent.map((s) => s[0]!.offset)).toEqual([1, 1]);
  });

  it('never commits revoked partitions, nor without a consumer', async () => {
    const group = new FakeGroup();
    const committer = new Committer(silentLogger, () => 1_000_000);
    const p = withAccepted(0, [0]);
    await committer.commit([p]);
    committer.attach(group);
    p.revoked = true;
    await committer.commit([p]);
    expect(group.sent).toEqual([]);
  });

  it('runs one commit at a time', async () => {
    const group = new FakeGroup();
    let reading = 0;
    let overlapped = false;
    const read = group.committed.bind(group);
    group.committed = async (partitions) => {
      reading++;
      overlapped ||= reading > 1;
      await new Promise((resolve) => setImmediate(resolve));
      reading--;
      return read(partitions);
    };
    const committer = new Committer(silentLogger, () => 1_000_000);
    committer.attach(group);
    const [a, b] = [withAccepted(0, [0]), withAccepted(1, [0])];
    await Promise.all([committer.commit([a]), committer.commit([b])]);
    expect(overlapped).toBe(false);
    expect([a.ledger.committed, b.ledger.committed]).toEqual([1, 1]);
  });

  it('commitConfirmed tries up to `attempts` times while Kafka does not hold the position', async () => {
    const group = new FakeGroup();
    const committer = new Committer(silentLogger, () => 1_000_000);
    committer.attach(group);
    const p = withAccepted(0, [0, 1, 2]);
    group.loseCommits = true;
    await committer.commitConfirmed(() => [p], 3);
    expect(group.sent.length).toBe(3);
    group.loseCommits = false;
    await committer.commitConfirmed(() => [p], 3);
    expect(group.sent.length).toBe(4);
    expect(p.ledger.committed).toBe(3);
  });
});
