// The spool directory: numbered segment files written append-only, read and deleted oldest first. A segment
// is never appended to again once sealed (rolled over at `segmentBytes`, handed to the drainer, or found at
// startup), so the drainer reads immutable files and a torn tail left by a crash is never written past.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

import type { ResolvedSpoolConfig } from '../../config/spool';
import { SpoolError } from '../../errors/errors';
import { encodeRecords, parseSegment } from './segment-format';
import type { SegmentDamage, SpoolRecord } from './segment-format';
import { SpoolLock } from './spool-lock';

/**
 * `maxBytes` bounds the bytes of all segment files (an append beyond it is refused); a segment is sealed once
 * it holds `segmentBytes` (the last append may take it past); `fsync: 'batch'` forces every append to disk.
 */
export type SpoolSettings = Pick<ResolvedSpoolConfig, 'directory' | 'maxBytes' | 'fsync' | 'segmentBytes'>;

/** One segment file. */
export interface Segment {
  readonly seq: number;
  readonly path: string;
  /** When it was created (from its name): no record in it is older. */
  readonly createdAtMillis: number;
  bytes: number;
  /** Records and spans in it; undefined for a segment found at startup and not read yet. */
  messages: number | undefined;
  spans: number | undefined;
}

const SEGMENT_NAME = /^(\d{12})-(\d{13})\.seg$/;

function segmentName(seq: number, createdAtMillis: number): string {
  return `${String(seq).padStart(12, '0')}-${String(createdAtMillis).padStart(13, '0')}.seg`;
}

/** What an open spool holds, for its metrics. */
export interface SpoolStats {
  bytes: number;
  /** Records known to be in it (segments found at startup count once read). */
  messages: number;
  /** Creation time of the oldest segment, undefined when empty. */
  oldestMillis: number | undefined;
}

export class Spool {
  readonly settings: SpoolSettings;
  readonly #lock: SpoolLock;
  readonly #segments: Segment[];
  #active: { segment: Segment; handle: FileHandle } | undefined;
  #nextSeq: number;
  #bytes: number;
  /** Appends, seals and removals run one at a time, in call order. */
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(settings: SpoolSettings, lock: SpoolLock, segments: Segment[]) {
    this.settings = settings;
    this.#lock = lock;
    this.#segments = segments;
    this.#nextSeq = (segments.at(-1)?.seq ?? 0) + 1;
    this.#bytes = segments.reduce((n, s) => n + s.bytes, 0);
  }

  /**
   * Creates the directory if needed, locks it, and lists the segments a previous process left (they are
   * drained first). Synchronous: it runs once, from the exporter's constructor.
   * @throws {@link SpoolError} `SPOOL_LOCKED` when another live process holds the directory, `SPOOL_FAILED`
   * when it cannot be created or read.
   */
  static open(settings: SpoolSettings): Spool {
    const { directory } = settings;
    let names: string[];
    try {
      mkdirSync(directory, { recursive: true });
      names = readdirSync(directory);
    } catch (err) {
      throw new SpoolError(`cannot use the spool directory ${directory}: ${String(err)}`, 'SPOOL_FAILED', err);
    }
    const lock = SpoolLock.acquire(directory);
    try {
      const segments: Segment[] = [];
      for (const name of names) {
        const m = SEGMENT_NAME.exec(name);
        if (!m) continue;
        const path = join(directory, name);
        segments.push({
          seq: Number(m[1]),
          path,
          createdAtMillis: Number(m[2]),
          bytes: statSync(path).size,
          messages: undefined,
          spans: undefined,
        });
      }
      segments.sort((a, b) => a.seq - b.seq);
      return new Spool(settings, lock, segments);
    } catch (err) {
      lock.release();
      throw new SpoolError(`cannot read the spool directory ${directory}: ${String(err)}`, 'SPOOL_FAILED', err);
    }
  }

  get stats(): SpoolStats {
    let messages = 0;
    for (const s of this.#segments) messages += s.messages ?? 0;
    return { bytes: this.#bytes, messages, oldestMillis: this.#segments[0]?.createdAtMillis };
  }

  /** Segments not drained yet, oldest first (the active one included). */
  get segments(): readonly Segment[] {
    return this.#segments;
  }

  /**
   * Appends the records as one write, then (with `fsync: 'batch'`) forces it to the disk; resolves once
   * they are durable by that policy.
   * @throws {@link SpoolError} `SPOOL_FULL` (nothing written) when they would take the spool past `maxBytes`;
   * `SPOOL_FAILED` when the file system fails.
   */
  append(records: readonly SpoolRecord[]): Promise<void> {
    return this.#serial(async () => {
      if (this.#closed) throw new SpoolError('the spool is closed', 'SPOOL_FAILED');
      const data = encodeRecords(records);
      if (this.#bytes + data.length > this.settings.maxBytes) {
        throw new SpoolError(
          `spool full: ${this.#bytes} bytes spooled, ${data.length} more would exceed exporter.spool.maxBytes ` +
            `(${this.settings.maxBytes}); new spans are dropped until it drains`,
          'SPOOL_FULL',
        );
      }
      if (this.#active && this.#active.segment.bytes >= this.settings.segmentBytes) await this.#seal();
      const active = this.#active ?? (await this.#create());
      const { segment, handle } = active;
      try {
        let written = 0;
        while (written < data.length) {
          written += (await handle.write(data, written, data.length - written)).bytesWritten;
        }
        if (this.settings.fsync === 'batch') await handle.datasync();
      } catch (err) {
        // A partial write leaves a torn record: count what reached the file (before sealing closes the handle),
        // then seal the segment so nothing is written after it.
        const size = await handle.stat().then(
          (s) => s.size,
          () => segment.bytes,
        );
        await this.#seal().catch(() => undefined);
        this.#bytes += size - segment.bytes;
        segment.bytes = size;
        throw new SpoolError(`cannot write the spool segment ${segment.path}: ${String(err)}`, 'SPOOL_FAILED', err);
      }
      segment.bytes += data.length;
      segment.messages = (segment.messages ?? 0) + records.length;
      segment.spans = (segment.spans ?? 0) + records.reduce((n, r) => n + r.spanCount, 0);
      this.#bytes += data.length;
    });
  }

  /** The oldest segment, sealed (so nothing is appended to it while it drains); undefined when empty. */
  oldest(): Promise<Segment | undefined> {
    return this.#serial(async () => {
      const first = this.#segments[0];
      if (first && this.#active?.segment === first) await this.#seal();
      return first;
    });
  }

  /** Every intact record of a sealed segment, and what was skipped; updates its counts. */
  async read(segment: Segment): Promise<{ records: SpoolRecord[]; damage: SegmentDamage }> {
    let data: Buffer;
    try {
      data = await readFile(segment.path);
    } catch (err) {
      throw new SpoolError(`cannot read the spool segment ${segment.path}: ${String(err)}`, 'SPOOL_FAILED', err);
    }
    const parsed = parseSegment(data);
    segment.messages = parsed.records.length;
    segment.spans = parsed.records.reduce((n, r) => n + r.spanCount, 0);
    return parsed;
  }

  /** Deletes a drained segment. */
  remove(segment: Segment): Promise<void> {
    return this.#serial(async () => {
      const i = this.#segments.indexOf(segment);
      if (i < 0) return;
      if (this.#active?.segment === segment) await this.#seal();
      try {
        await unlink(segment.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw new SpoolError(`cannot delete the spool segment ${segment.path}: ${String(err)}`, 'SPOOL_FAILED', err);
        }
      }
      this.#segments.splice(i, 1);
      this.#bytes -= segment.bytes;
    });
  }

  /** Reads the counts of segments found at startup (for the metrics); returns their damage, if any. */
  async recover(): Promise<{ segment: Segment; damage: SegmentDamage }[]> {
    const damaged = [];
    for (const segment of [...this.#segments]) {
      if (segment.messages !== undefined) continue;
      const { damage } = await this.read(segment);
      if (damage.skippedBytes > 0) damaged.push({ segment, damage });
    }
    return damaged;
  }

  /** Waits for pending appends, closes the active segment and releases the lock; the files stay. */
  close(): Promise<void> {
    return this.#serial(async () => {
      if (this.#closed) return;
      this.#closed = true;
      await this.#seal().catch(() => undefined);
      this.#lock.release();
    });
  }

  async #create(): Promise<{ segment: Segment; handle: FileHandle }> {
    const createdAtMillis = Math.max(Date.now(), this.#segments.at(-1)?.createdAtMillis ?? 0);
    const seq = this.#nextSeq++;
    const path = join(this.settings.directory, segmentName(seq, createdAtMillis));
    let handle: FileHandle;
    try {
      handle = await open(path, 'wx', 0o644);
      // The new file's directory entry must be durable too, or a crash could lose the whole segment.
      if (this.settings.fsync === 'batch') await syncDirectory(this.settings.directory);
    } catch (err) {
      throw new SpoolError(
        `cannot create a spool segment in ${this.settings.directory}: ${String(err)}`,
        'SPOOL_FAILED',
        err,
      );
    }
    const segment: Segment = { seq, path, createdAtMillis, bytes: 0, messages: 0, spans: 0 };
    this.#segments.push(segment);
    this.#active = { segment, handle };
    return this.#active;
  }

  async #seal(): Promise<void> {
    const active = this.#active;
    this.#active = undefined;
    if (active) await active.handle.close();
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
