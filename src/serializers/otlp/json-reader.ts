// OTLP/JSON: proto3 JSON mapping with OTLP's exceptions (hex ids, integer enums, lowerCamelCase keys).
// protobufjs's `fromObject` is not used: it takes base64 ids and ignores wrong types instead of refusing them.
import { SerializationError } from '../../errors/errors';

import type { FieldReader } from './field-reader';
import { ANY_VALUE_CASES } from './field-reader';
import { describe, Invalid } from './invalid';
import {
  checkHexId,
  expectType,
  INT64_MAX,
  INT64_MIN,
  isBoolean,
  isObj,
  isString,
  snake,
  UINT32_MAX,
  UINT64_MAX,
} from './values';
import type { Obj } from './values';

function jsonGet(o: Obj, key: string): unknown {
  let value = Object.hasOwn(o, key) ? o[key] : undefined;
  if (value === undefined || value === null) {
    const alias = snake(key);
    value = alias !== key && Object.hasOwn(o, alias) ? o[alias] : undefined;
  }
  return value === null ? undefined : value;
}

function jsonInteger(value: unknown, min: bigint, max: bigint, key: string): bigint {
  let result: bigint | undefined;
  if (value === undefined) return 0n;
  if (typeof value === 'number' && Number.isInteger(value)) result = BigInt(value);
  else if (typeof value === 'string' && /^-?\d+$/.test(value)) result = BigInt(value);
  if (result === undefined) throw new Invalid(`expected an integer, got ${JSON.stringify(value)}`, key);
  if (result < min || result > max) throw new Invalid(`${result} is out of range [${min}, ${max}]`, key);
  return result;
}

const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

export const jsonReader: FieldReader = {
  string: (o, key) => expectType(jsonGet(o, key), isString, '', 'a string', key),
  bool: (o, key) => expectType(jsonGet(o, key), isBoolean, false, 'a boolean', key),
  uint32: (o, key) => Number(jsonInteger(jsonGet(o, key), 0n, BigInt(UINT32_MAX), key)),
  int64: (o, key) => jsonInteger(jsonGet(o, key), INT64_MIN, INT64_MAX, key),
  fixed64: (o, key) => jsonInteger(jsonGet(o, key), 0n, UINT64_MAX, key),
  double(o, key) {
    const value = jsonGet(o, key);
    if (value === undefined) return 0;
    if (typeof value === 'number') return value;
    if (value === 'NaN') return NaN;
    if (value === 'Infinity') return Infinity;
    if (value === '-Infinity') return -Infinity;
    if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
    throw new Invalid(`expected a number, got ${JSON.stringify(value)}`, key);
  },
  bytes(o, key) {
    const value = jsonGet(o, key);
    if (value === undefined) return new Uint8Array(0);
    if (typeof value !== 'string' || !BASE64_RE.test(value) || value.replace(/=+$/, '').length % 4 === 1) {
      throw new Invalid('expected base64', key);
    }
    return new Uint8Array(Buffer.from(value, 'base64'));
  },
  enumValue(o, key, type) {
    const value = jsonGet(o, key);
    if (value === undefined) return 0;
    if (typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31) return value;
    if (typeof value === 'string' && Object.hasOwn(type.values, value)) return type.values[value] as number;
    throw new Invalid(`expected a ${type.name} number or name, got ${JSON.stringify(value)}`, key);
  },
  id: (o, key, bytes, optional) => checkHexId(jsonGet(o, key) ?? '', bytes, optional, key),
  message(o, key) {
    const value = jsonGet(o, key);
    if (value === undefined || isObj(value)) return value;
    throw new Invalid('expected an object', key);
  },
  messages(o, key) {
    const value = jsonGet(o, key);
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw new Invalid('expected an array', key);
    value.forEach((item, i) => {
      if (!isObj(item)) throw new Invalid('expected an object', `${key}[${i}]`);
    });
    return value as Obj[];
  },
  anyValueCase(o) {
    const present = ANY_VALUE_CASES.filter((c) => jsonGet(o, c) !== undefined);
    if (present.length > 1) throw new Invalid(`more than one value set (${present.join(', ')})`);
    return present[0];
  },
};

export function parseJson(bytes: Uint8Array, prefix: string): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new SerializationError(`${prefix}invalid UTF-8`, err);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SerializationError(`${prefix}invalid JSON: ${describe(err)}`, err);
  }
}

/**
 * The JSON objects in a parsed JSON value: in OTLP/JSON every message is an object and every object a
 * message. Iterative, so that no nesting depth can overflow the stack.
 */
export function countJsonObjects(root: unknown): number {
  let objects = 0;
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'object' && item !== null) pending.push(item);
      continue;
    }
    objects++;
    for (const key in value) {
      const item = (value as Obj)[key];
      if (typeof item === 'object' && item !== null) pending.push(item);
    }
  }
  return objects;
}
