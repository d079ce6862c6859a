// The `exporter.spool` section: off unless set in code or by OTEL_EXPORTER_KAFKA_SPOOL_DIRECTORY.
import { ConfigError } from '../errors/errors';
import { DEFAULTS } from './defaults';
import { ENV } from './env';
import type { EnvReader } from './env';
import type { SpoolFsync } from './types';
import { checkNumber, checkOneOf, checkSection, checkString } from './validators';

/** The resolved `exporter.spool` section. */
export interface ResolvedSpoolConfig {
  /** The spool's directory. */
  directory: string;
  /** Bound on the spool's bytes on disk. */
  maxBytes: number;
  /** When spooled data is forced to the disk. */
  fsync: SpoolFsync;
  /** Size at which a segment file is closed. */
  segmentBytes: number;
  /** Average bound on the bytes drained per second. */
  drainBytesPerSecond: number;
}

const SPOOL_FSYNC: readonly SpoolFsync[] = ['batch', 'never'];
/** The smallest spool: a few of the largest messages. */
const MIN_SPOOL_BYTES = 64 * 1024;

/** The `exporter.spool` section: off when neither it nor the environment variable is set. */
export function resolveSpool(v: unknown, e: EnvReader): ResolvedSpoolConfig | undefined {
  const d = DEFAULTS.spool;
  if (v === undefined) {
    const directory = e.string(ENV.spoolDirectory);
    if (directory === undefined) return undefined;
    return { directory, ...d, segmentBytes: Math.min(d.segmentBytes, Math.floor(d.maxBytes / 4)) };
  }
  const o = checkSection('exporter.spool', v);
  const directory = checkString('exporter.spool.directory', o.directory);
  if (directory === undefined) {
    throw new ConfigError('exporter.spool.directory', 'required: the directory of the spool (created if missing)');
  }
  const maxBytes =
    checkNumber('exporter.spool.maxBytes', o.maxBytes, { min: MIN_SPOOL_BYTES, integer: true }) ?? d.maxBytes;
  const segmentBytes =
    checkNumber('exporter.spool.segmentBytes', o.segmentBytes, { min: 4096, max: maxBytes, integer: true }) ??
    Math.max(4096, Math.min(d.segmentBytes, Math.floor(maxBytes / 4)));
  const drainBytesPerSecond =
    checkNumber('exporter.spool.drainBytesPerSecond', o.drainBytesPerSecond, { min: 1024, integer: true }) ??
    d.drainBytesPerSecond;
  return {
    directory,
    maxBytes,
    fsync: checkOneOf('exporter.spool.fsync', o.fsync, SPOOL_FSYNC) ?? d.fsync,
    segmentBytes,
    drainBytesPerSecond,
  };
}
