import { OffsetLedger } from '../../../src/forwarder/offset-ledger';

describe('OffsetLedger', () => {
  it('has nothing to commit before anything was tracked', () => {
    const ledger = new OffsetLedger();
    expect(ledger.position()).toBeUndefined();
    expect(ledger.committable()).toBeUndefined();
  });

  it('commits up to the oldest incomplete record', () => {
    const ledger = new OffsetLedger();
    for (const o of [10, 11, 12, 13]) ledger.track(o);
    expect(ledger.position()).toBe(10);
    ledger.complete(11);
    ledger.complete(13);
    expect(ledger.position()).toBe(10); // 10 still open: nothing past it may be committed
    ledger.complete(10);
    expect(ledger.position()).toBe(12);
    ledger.complete(12);
    expect(ledger.position()).toBe(14); // all done: one past the newest
  });

  it('handles gaps in offsets (compaction, transaction markers)', () => {
    const ledger = new OffsetLedger();
    for (const o of [5, 9, 20]) ledger.track(o);
    ledger.complete(5);
    expect(ledger.position()).toBe(9);
    ledger.complete(20);
    ledger.complete(9);
    expect(ledger.position()).toBe(21);
  });

  it('ignores a redelivered offset', () => {
    const ledger = new OffsetLedger();
    expect(ledger.track(1)).toBe(true);
    expect(ledger.track(2)).toBe(true);
    expect(ledger.track(2)).toBe(false);
    expect(ledger.track(1)).toBe(false);
    ledger.complete(1);
    ledger.complete(2);
    expect(ledger.position()).toBe(3);
  });

  it('reports committable positions only when they advance', () => {
    const ledger = new OffsetLedger();
    ledger.track(0);
    ledger.track(1);
    ledger.complete(0);
    expect(ledger.committable()).toBe(1);
    ledger.markCommitted(1);
    expect(ledger.committable()).toBeUndefined();
    ledger.complete(1);
    expect(ledger.committable()).toBe(2);
    ledger.markCommitted(2);
    ledger.markCommitted(1); // a late, older commit never moves it back
    expect(ledger.committed).toBe(2);
  });

  it('counts records in flight', () => {
    const ledger = new OffsetLedger();
    for (let o = 0; o < 5; o++) ledger.track(o);
    ledger.complete(3);
    expect(ledger.inFlight).toBe(4);
    ledger.complete(0);
    ledger.position();
    expect(ledger.inFlight).toBe(3);
  });

  it('rejects completing an offset never tracked', () => {
    const ledger = new OffsetLedger();
    ledger.track(1);
    expect(() => ledger.complete(7)).toThrow(/never tracked/);
  });

  it('stays correct over many records completed out of order', () => {
    const ledger = new OffsetLedger();
    const n = 10_000;
    for (let o = 0; o < n; o++) ledger.track(o);
    const order = Array.from({ length: n }, (_, i) => i);
    let seed = 42;
    for (let i = n - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const j = seed % (i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const completed = new Set<number>();
    for (const o of order) {
      ledger.complete(o);
      completed.add(o);
      let expected = 0;
      while (completed.has(expected)) expected++;
      if (o % 97 === 0) expect(ledger.position()).toBe(expected);
    }
    expect(ledger.position()).toBe(n);
  });
});
