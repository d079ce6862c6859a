import { RecordQueue, putBack } from '../../../src/forwarder/record-queue';

describe('putBack', () => {
  it('puts records back in front of what was not taken, in order', () => {
    const queue = ['taken1', 'taken2', 'c', 'd'];
    const head = putBack(queue, 2, ['a', 'b']);
    expect(head).toBe(0);
    expect(queue).toEqual(['a', 'b', 'c', 'd']);
  });

  it('requeues a batch far larger than the call stack allows as spread arguments', () => {
    // 300k: a spread of this many arguments throws "Maximum call stack size exceeded" in V8.
    const batch = Array.from({ length: 300_000 }, (_, i) => i);
    const queue = [-2, -1, 300_000];
    const head = putBack(queue, 2, batch);
    expect(head).toBe(0);
    expect(queue.length).toBe(300_001);
    expect(queue[0]).toBe(0);
    expect(queue[299_999]).toBe(299_999);
    expect(queue[300_000]).toBe(300_000);
  });
});

describe('RecordQueue', () => {
  const rec = (bytes: number, at = 0): { value: Buffer; enqueuedAt: number } => ({
    value: Buffer.alloc(bytes),
    enqueuedAt: at,
  });

  it('counts records and bytes as they come, leave, come back and are cleared', () => {
    const q = new RecordQueue<{ value: Buffer; enqueuedAt: number }>();
    const [a, b, c] = [rec(1, 10), rec(20, 11), rec(300, 12)];
    q.push(a);
    q.push(b);
    q.push(c);
    expect([q.length, q.bytes, q.peek()]).toEqual([3, 321, a]);
    expect(q.shift()).toBe(a);
    expect(q.shift()).toBe(b);
    expect([q.length, q.bytes, q.peek()]).toEqual([1, 300, c]);
    q.putBack([a, b]);
    expect([q.length, q.bytes]).toEqual([3, 321]);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([a, b, c, undefined]);
    expect([q.length, q.bytes, q.peek()]).toEqual([0, 0, undefined]);
    q.push(a);
    q.push(b);
    q.shift();
    expect(q.clear()).toEqual([b]);
    expect([q.length, q.bytes]).toEqual([0, 0]);
  });
});
