// Limits, checks and conversions the OTLP readers, the wire walk and the encoder share.
import type { AttrValue, DecodedAttributes } from './model';
import { Invalid } from './invalid';

/**
 * Deepest nesting of array/kvlist attribute values accepted. It keeps what we encode well inside the
 * 100-message recursion limit protobufjs applies when decoding, and bounds recursion on hostile JSON.
 */
export const MAX_VALUE_DEPTH = 32;

export const UINT32_MAX = 0xffff_ffff;
export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;
export const UINT64_MAX = 2n ** 64n - 1n;

export type Obj = Record<string, unknown>;

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += HEX[byte];
  return out;
}

export function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Checks a hex id of `bytes` bytes (or `''` when `optional`) and returns it in lowercase. */
export function checkHexId(value: unknown, bytes: number, optional: boolean, key: string): string {
  if (typeof value !== 'string') throw new Invalid(`expected a hex string, got ${typeof value}`, key);
  if (value === '' && optional) return '';
  if (value.length !== bytes * 2 || !HEX_RE.test(value)) {
    // Quoted as JSON: the value is the producer's, and a raw newline in it would forge a log line.
    throw new Invalid(`expected ${bytes * 2} hex characters, got ${JSON.stringify(value.slice(0, 80))}`, key);
  }
  return value.toLowerCase();
}

export function setOwn(record: DecodedAttributes, key: string, value: AttrValue): void {
  // Plain assignment of '__proto__' would replace the object's prototype instead of adding a key.
  if (key === '__proto__') {
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    record[key] = value;
  }
}

export function expectType<T>(
  value: unknown,
  check: (v: unknown) => v is T,
  fallback: T,
  what: string,
  key: string,
): T {
  if (value === undefined || value === null) return fallback;
  if (check(value)) return value;
  throw new Invalid(`expected ${what}`, key);
}

export const isString = (v: unknown): v is string => typeof v === 'string';
export const isNumber = (v: unknown): v is number => typeof v === 'number';
export const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
export const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
export const EMPTY_BYTES = new Uint8Array(0);

const snakeNames = new Map<string, string>();

/** Proto3 JSON parsers accept the original snake_case field names too. */
export function snake(key: string): string {
  let name = snakeNames.get(key);
  if (name === undefined) {
    name = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    snakeNames.set(key, name);
  }
  return name;
}

/** `o[key]` (or its snake_case form); `null` counts as absent, as in proto3 JSON. */

/** Whether a `content-type` selects OTLP/JSON (anything else, or none, is protobuf). */
export function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.toLowerCase().includes('json');
}
