import { putBack } from '../../../src/forwarder/record-queue';

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
