import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import { SpoolError } from '../../../../src/errors/errors';
import { LOCK_FILE, SpoolLock } from '../../../../src/exporter/spool/spool-lock';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'okj-lock-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function lockedError(fn: () => unknown): SpoolError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SpoolError);
    return err as SpoolError;
  }
  throw new Error('expected a SpoolError');
}

describe('SpoolLock', () => {
  it('writes its pid and host, refuses a second holder in this process, and can be taken after release', () => {
    const lock = SpoolLock.acquire(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toEqual({ pid: process.pid, host: hostname() });
    const err = lockedError(() => SpoolLock.acquire(dir));
    expect(err.code).toBe('SPOOL_LOCKED');
    expect(err.message).toContain(String(process.pid));
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    SpoolLock.acquire(dir).release();
  });

  it('a live process on this host holds it: a clear error naming its pid', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: other.pid, host: hostname() }));
      const err = lockedError(() => SpoolLock.acquire(dir));
      expect(err.code).toBe('SPOOL_LOCKED');
      expect(err.message).toContain(`locked by process ${other.pid} on ${hostname()}`);
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
    }
  });

  it('a lock left by a dead process (SIGKILL) is taken over', async () => {
    const dead = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((r) => dead.once('exit', r));
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: dead.pid, host: hostname() }));
    const lock = SpoolLock.acquire(dir);
    expect((JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { pid: number }).pid).toBe(process.pid);
    lock.release();
  });

  it("our own pid in a lock this process does not hold is a predecessor's (a container restarts as pid 1)", () => {
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, host: hostname() }));
    SpoolLock.acquire(dir).release();
  });

  it('a half-written lock file is stale', () => {
    writeFileSync(join(dir, LOCK_FILE), '{"pid": 12');
    SpoolLock.acquire(dir).release();
  });

  it("another host's lock is respected while its heartbeat is fresh, taken over once stale", () => {
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 4242, host: 'elsewhere' }));
    expect(lockedError(() => SpoolLock.acquire(dir)).message).toContain('process 4242 on elsewhere');
    SpoolLock.acquire(dir, Date.now() + 61_000).release();
  });
});
