import { Batcher } from '../../../src/forwarder/batcher';
import { JSON_TYPE, enqueue, partition } from './fixtures';

const limits = { maxRecords: 4, maxBytes: 100, lingerMillis: 50 };

describe('Batcher.dueIn', () => {
  it('is undefined when no partition has a record', () => {
    expect(new Batcher(limits).dueIn([partition(0), partition(1)], 0, false)).toBeUndefined();
  });

  it('waits for the oldest record to linger, then is due', () => {
    const p = partition(0);
    enqueue(p, 10, { enqueuedAt: 1_000 });
    enqueue(p, 10, { enqueuedAt: 1_030 });
    const batcher = new Batcher(limits);
    expect(batcher.dueIn([p], 1_010, false)).toBe(40);
    expect(batcher.dueIn([p], 1_050, false)).toBe(0);
    expect(batcher.dueIn([p], 2_000, false)).toBe(0);
  });

  it('is due at once when the records fill a batch, by count or by bytes, across partitions', () => {
    const [a, b] = [partition(0), partition(1)];
    enqueue(a, 10, { enqueuedAt: 1_000 });
    enqueue(a, 10, { enqueuedAt: 1_000 });
    enqueue(b, 10, { enqueuedAt: 1_000 });
    const batcher = new Batcher(limits);
    expect(batcher.dueIn([a, b], 1_000, false)).toBe(50);
    enqueue(b, 10, { enqueuedAt: 1_000 });
    expect(batcher.dueIn([a, b], 1_000, false)).toBe(0);

    const c = partition(2);
    enqueue(c, 100, { enqueuedAt: 1_000 });
    expect(batcher.dueIn([c], 1_000, false)).toBe(0);
  });

  it('is due at once while draining', () => {
    const p = partition(0);
    enqueue(p, 10, { enqueuedAt: 1_000 });
    expect(new Batcher(limits).dueIn([p], 1_000, true)).toBe(0);
  });

  it('leaves out partitions that are blocked or revoked', () => {
    const [blocked, revoked] = [partition(0), partition(1)];
    for (let i = 0; i < 5; i++) enqueue(blocked);
    for (let i = 0; i < 5; i++) enqueue(revoked);
    blocked.blockers = 1;
    revoked.revoked = true;
    expect(new Batcher(limits).dueIn([blocked, revoked], 0, true)).toBeUndefined();
  });
});

describe('Batcher.take', () => {
  it('takes up to maxRecords, each partition in offset order, starting one partition further each time', () => {
    const [a, b] = [partition(0), partition(1)];
    for (let i = 0; i < 3; i++) enqueue(a);
    for (let i = 0; i < 3; i++) enqueue(b);
    const batcher = new Batcher(limits);
    const first = batcher.take([a, b]);
    expect(first.map((r) => [r.state.partition, r.offset])).toEqual([
      [1, 0],
      [1, 1],
      [1, 2],
      [0, 0],
    ]);
    const second = batcher.take([a, b]);
    expect(second.map((r) => [r.state.partition, r.offset])).toEqual([
      [0, 1],
      [0, 2],
    ]);
    expect(a.queue.length + b.queue.length).toBe(0);
    expect(a.queue.bytes + b.queue.bytes).toBe(0);
  });

  it('stops before maxBytes, but a record larger than maxBytes goes alone', () => {
    const p = partition(0);
    enqueue(p, 60);
    enqueue(p, 60);
    enqueue(p, 500);
    const batcher = new Batcher(limits);
    expect(batcher.take([p]).map((r) => r.value.length)).toEqual([60]);
    expect(batcher.take([p]).map((r) => r.value.length)).toEqual([60]);
    expect(batcher.take([p]).map((r) => r.value.length)).toEqual([500]);
  });

  it('puts records of one content type only in a batch', () => {
    const p = partition(0);
    enqueue(p);
    enqueue(p, 10, { contentType: JSON_TYPE });
    enqueue(p);
    const batcher = new Batcher(limits);
    expect(batcher.take([p]).map((r) => r.offset)).toEqual([0]);
    expect(batcher.take([p]).map((r) => r.offset)).toEqual([1]);
    expect(batcher.take([p]).map((r) => r.offset)).toEqual([2]);
  });

  it('takes nothing from blocked or revoked partitions', () => {
    const [blocked, revoked, open] = [partition(0), partition(1), partition(2)];
    enqueue(blocked);
    enqueue(revoked);
    enqueue(open);
    blocked.blockers = 2;
    revoked.revoked = true;
    expect(new Batcher(limits).take([blocked, revoked, open]).map((r) => r.state.partition)).toEqual([2]);
    expect(blocked.queue.length).toBe(1);
  });
});
