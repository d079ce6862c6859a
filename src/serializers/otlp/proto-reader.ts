// The `FieldReader` over the objects protobufjs's `ExportTraceServiceRequest.decode` builds: the bytes are read
// by protobufjs itself (its Reader); this only checks and converts the values it hands out.
import type { FieldReader } from './field-reader';
import { ANY_VALUE_CASES } from './field-reader';
import { Invalid } from './invalid';
import { bytesToHex, EMPTY_BYTES, expectType, isBoolean, isBytes, isNumber, isObj, isString } from './values';
import type { Obj } from './values';

function own(o: Obj, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** A protobufjs 64-bit value: a `Long` (when protobufjs found the `long` package, as it does on Node) or a number. */
function longToBigInt(value: unknown, signed: boolean, key: string): bigint {
  if (value === undefined || value === null) return 0n;
  // Without `long` protobufjs hands out lossy numbers; they are still the best value available.
  if (typeof value === 'number') return BigInt(Math.trunc(value));
  if (isObj(value) && typeof value.low === 'number' && typeof value.high === 'number') {
    const bits = (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
    return signed ? BigInt.asIntN(64, bits) : bits;
  }
  throw new Invalid('expected a 64-bit integer', key);
}

export const protoReader: FieldReader = {
  string: (o, key) => expectType(own(o, key), isString, '', 'a string', key),
  bool: (o, key) => expectType(own(o, key), isBoolean, false, 'a boolean', key),
  uint32: (o, key) => expectType(own(o, key), isNumber, 0, 'a number', key),
  double: (o, key) => expectType(own(o, key), isNumber, 0, 'a number', key),
  enumValue: (o, key) => expectType(own(o, key), isNumber, 0, 'a number', key),
  int64: (o, key) => longToBigInt(own(o, key), true, key),
  fixed64: (o, key) => longToBigInt(own(o, key), false, key),
  // Copied: protobufjs hands out views into the input buffer, which the caller may reuse.
  bytes: (o, key) => new Uint8Array(expectType(own(o, key), isBytes, EMPTY_BYTES, 'bytes', key)),
  id(o, key, bytes, optional) {
    const value = expectType(own(o, key), isBytes, EMPTY_BYTES, 'bytes', key);
    if (value.length === bytes || (optional && value.length === 0)) return bytesToHex(value);
    throw new Invalid(`expected ${bytes} bytes, got ${value.length}`, key);
  },
  message(o, key) {
    const value = own(o, key);
    if (value === undefined || value === null) return undefined;
    if (isObj(value)) return value;
    throw new Invalid('expected a message', key);
  },
  messages(o, key) {
    const value = own(o, key);
    if (value === undefined) return [];
    if (Array.isArray(value) && value.every(isObj)) return value;
    throw new Invalid('expected a list of messages', key);
  },
  anyValueCase(o) {
    // protobufjs's virtual oneof property names the member set last, which is the one that counts.
    const kind: unknown = o.value;
    return ANY_VALUE_CASES.find((c) => c === kind);
  },
};
