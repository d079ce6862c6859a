// How the OTLP readers and writers report what they cannot read or write: an `Invalid` carries the path of the
// field while it unwinds, and `guarded` turns it into the SerializationError callers see.
import { SerializationError } from '../../errors/errors';

export const PROTO_PREFIX = 'not an OTLP ExportTraceServiceRequest: ';
export const JSON_PREFIX = 'not an OTLP/JSON ExportTraceServiceRequest: ';

/**
 * A validation failure. The field path is collected while the error unwinds (see `rethrowIn`), so the hot
 * path builds no path strings; `guarded` turns it into a SerializationError with the format's prefix.
 */
export class Invalid extends Error {
  readonly path: string[];

  constructor(
    readonly detail: string,
    key?: string,
  ) {
    super(detail);
    this.path = key === undefined ? [] : [key];
  }

  /** The detail, after the path of the field it concerns. */
  fullMessage(): string {
    return this.path.length === 0 ? this.detail : `${this.path.join('.')}: ${this.detail}`;
  }
}

/** Adds `segment` in front of the path of an `Invalid` passing through, and rethrows whatever it is. */
export function rethrowIn(err: unknown, segment: string): never {
  if (err instanceof Invalid) err.path.unshift(segment);
  throw err;
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs `fn`, turning anything it throws into a SerializationError whose message starts with `prefix`. */
export function guarded<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SerializationError) throw err;
    if (err instanceof Invalid) throw new SerializationError(prefix + err.fullMessage());
    throw new SerializationError(prefix + describe(err), err);
  }
}
