// One process per spool directory: two exporters appending to and deleting each other's segments would
// lose or duplicate data. The lock is a file created exclusively (O_EXCL), holding the owner's pid and host.
// A lock whose owner is gone (SIGKILL leaves the file behind) is taken over: on this host when its pid is
// not alive, from another host (a shared volume) when its heartbeat, the file's mtime, has gone stale.
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { SpoolError } from '../../errors/errors';

export const LOCK_FILE = 'spool.lock';
/** How often the holder touches the lock file. */
const HEARTBEAT_MILLIS = 10_000;
/** A lock from another host untouched this long is stale. */
const STALE_MILLIS = 60_000;

/** Directories locked by this process: a pid alone cannot tell this process's locks from a predecessor's. */
const heldHere = new Set<string>();

interface LockOwner {
  pid: number;
  host: string;
}

/** The exclusive lock of a spool directory, held until {@link SpoolLock.release}. */
export class SpoolLock {
  readonly path: string;
  readonly #timer: NodeJS.Timeout;
  #released = false;

  private constructor(path: string) {
    this.path = path;
    this.#timer = setInterval(() => {
      const now = new Date();
      utimes(path, now, now).catch(() => undefined);
    }, HEARTBEAT_MILLIS);
    this.#timer.unref();
  }

  /**
   * Takes the lock of `directory` (which must exist), taking over a stale one.
   * @throws {@link SpoolError} `SPOOL_LOCKED` naming the holder when another live process holds it.
   */
  static acquire(directory: string, nowMillis = Date.now()): SpoolLock {
    const path = join(directory, LOCK_FILE);
    if (heldHere.has(path)) {
      throw new SpoolError(
        `spool directory ${directory} is already used by another exporter in this process (pid ${process.pid})`,
        'SPOOL_LOCKED',
      );
    }
    // Two attempts: the second after removing a stale lock (another process may win that race; then it holds it).
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd: number;
      try {
        fd = openSync(path, 'wx', 0o644);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new SpoolError(`cannot create the spool lock ${path}: ${String(err)}`, 'SPOOL_FAILED', err);
        }
        const owner = readOwner(path);
        if (owner && !isStale(path, owner, nowMillis)) {
          throw new SpoolError(
            `spool directory ${directory} is locked by process ${owner.pid} on ${owner.host} (${path}); two ` +
              'processes cannot share a spool directory: give each its own exporter.spool.directory',
            'SPOOL_LOCKED',
          );
        }
        try {
          unlinkSync(path);
        } catch {
          // Someone else removed it first.
        }
        continue;
      }
      try {
        writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname() } satisfies LockOwner));
      } finally {
        closeSync(fd);
      }
      heldHere.add(path);
      return new SpoolLock(path);
    }
    throw new SpoolError(`cannot take over the stale spool lock ${path}: another process took it`, 'SPOOL_LOCKED');
  }

  /** Removes the lock file (idempotent). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#timer);
    heldHere.delete(this.path);
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string')
      return { pid: parsed.pid, host: parsed.host };
  } catch {
    // Unreadable or half-written (its owner died while creating it): no owner to respect.
  }
  return undefined;
}

function isStale(path: string, owner: LockOwner, nowMillis: number): boolean {
  if (owner.host === hostname()) {
    // Our own pid in a lock this process does not hold: a predecessor's (containers restart as the same pid).
    return owner.pid === process.pid || !isAlive(owner.pid);
  }
  try {
    return nowMillis - statSync(path).mtimeMs > STALE_MILLIS;
  } catch {
    return true;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
