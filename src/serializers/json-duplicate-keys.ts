// OTLP/JSON readers disagree on a key given twice in one object: `JSON.parse` keeps the last, the OTel
// Collector's reader appends repeated fields, protojson refuses. A record such as
// `{"resourceSpans":[A],"resourceSpans":[B]}` would lose A's spans here and be committed. Such records are
// found before sending and dead-lettered with the key named, so no reader's choice can lose spans silently.

/** Where a JSON text repeats a key within one object. */
export interface DuplicateKey {
  /** The key as written the second time. */
  readonly key: string;
  /** Character offset of the second occurrence. */
  readonly position: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

interface Frame {
  /** Normalised keys seen in this object; undefined for an array. */
  readonly keys: Set<string> | undefined;
  expectKey: boolean;
}

/**
 * The first key that an object of `text` (valid JSON) holds twice, or undefined. Keys are compared the way
 * proto3 JSON readers match field names: `resource_spans` and `resourceSpans` are the same field.
 *
 * @remarks
 * One pass, no recursion (nesting depth is bounded only by memory, not by the call stack).
 */
export function findDuplicateKey(text: string): DuplicateKey | undefined {
  const stack: Frame[] = [];
  let top: Frame | undefined;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      let escaped = false;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) {
          escaped = true;
          i++;
        } else if (d === QUOTE) {
          break;
        }
      }
      if (top?.keys !== undefined && top.expectKey) {
        top.expectKey = false;
        const raw = text.slice(start, i + 1);
        const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        const normalised = key.replaceAll('_', '').toLowerCase();
        if (top.keys.has(normalised)) return { key, position: start };
        top.keys.add(normalised);
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (top) stack.push(top);
      top = { keys: c === OPEN_BRACE ? new Set() : undefined, expectKey: c === OPEN_BRACE };
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      top = stack.pop();
    } else if (c === COMMA && top?.keys !== undefined) {
      top.expectKey = true;
    }
  }
  return undefined;
}
