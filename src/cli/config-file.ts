// The `--config` file. It may hold secrets (SASL passwords, key passphrases), and `--config` may be pointed
// at any file (/etc/passwd): no error about it may quote its content. Node's JSON.parse messages do
// ("Unexpected token 'h', ..."password": hunter2}" is not valid JSON"), so a failed parse is reported as a
// file name, a line and a column, located by a scanner of our own.
import { closeSync, openSync, readSync } from 'node:fs';

import type { OtelKafkaJaegerConfig } from '../config/types';
import { boundedText } from '../errors/bounded-text';

/** The largest config file read; a config object is a few KB, and `--config /dev/zero` must not hang. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** What is wrong with a config file; the message names the file and a position, never its content. */
export class ConfigFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigFileError';
  }
}

/** Where a JSON text stops being valid: a character offset and what was expected there (no content). */
export interface JsonSyntaxError {
  /** Offset in UTF-16 code units (string index) of the first character that cannot be there. */
  offset: number;
  /** What is wrong, in words that quote nothing of the text. */
  reason: string;
}

type State = 'value' | 'value-or-close' | 'key-or-close' | 'key' | 'colon' | 'after-value';

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERALS = ['true', 'false', 'null'] as const;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX4 = /[0-9a-fA-F]{4}/y;

/**
 * The first syntax error of `text` as JSON (RFC 8259, as `JSON.parse` reads it), or undefined when it is
 * valid. Iterative, so any nesting depth is fine.
 */
export function jsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const stack: ('{' | '[')[] = [];
  let state: State = 'value';
  let i = 0;
  const fail = (offset: number, reason: string): JsonSyntaxError => ({ offset, reason });

  /** Offset after the string opening at `start`, or the error inside it. */
  const string = (start: number): number | JsonSyntaxError => {
    for (let j = start + 1; j < text.length; j++) {
      const c = text[j]!;
      if (c === '"') return j + 1;
      if (c === '\\') {
        const e = text[j + 1];
        if (e === 'u') {
          HEX4.lastIndex = j + 2;
          if (!HEX4.test(text)) return fail(j, 'invalid \\u escape in a string');
          j += 5;
        } else if (e !== undefined && ESCAPES.has(e)) {
          j += 1;
        } else {
          return fail(j, 'invalid escape in a string');
        }
      } else if (c.charCodeAt(0) < 0x20) {
        return fail(j, 'control character (e.g. a raw line break) in a string');
      }
    }
    return fail(text.length, 'unterminated string');
  };

  for (;;) {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
    if (i >= text.length) {
      return state === 'after-value' && stack.length === 0 ? undefined : fail(i, 'unexpected end of file');
    }
    const c = text[i]!;
    switch (state) {
      case 'value':
      case 'value-or-close': {
        if (state === 'value-or-close' && c === ']') {
          stack.pop();
          i++;
          state = 'after-value';
        } else if (c === '{' || c === '[') {
          stack.push(c);
          i++;
          state = c === '{' ? 'key-or-close' : 'value-or-close';
        } else if (c === '"') {
          const end = string(i);
          if (typeof end !== 'number') return end;
          i = end;
          state = 'after-value';
        } else if (c === '-' || (c >= '0' && c <= '9')) {
          NUMBER.lastIndex = i;
          if (!NUMBER.test(text)) return fail(i, 'invalid number');
          i = NUMBER.lastIndex;
          state = 'after-value';
        } else {
          const literal = LITERALS.find((l) => text.startsWith(l, i));
          if (!literal) return fail(i, 'expected a value (strings must be in double quotes)');
          i += literal.length;
          state = 'after-value';
        }
        break;
      }
      case 'key-or-close':
      case 'key': {
        if (state === 'key-or-close' && c === '}') {
          stack.pop();
          i++;
          state = 'after-value';
          break;
        }
        if (c !== '"') return fail(i, 'expected a property name in double quotes');
        const end = string(i);
        if (typeof end !== 'number') return end;
        i = end;
        state = 'colon';
        break;
      }
      case 'colon':
        if (c !== ':') return fail(i, "expected ':' after a property name");
        i++;
        state = 'value';
        break;
      case 'after-value': {
        const top = stack.at(-1);
        if (top === undefined) return fail(i, 'unexpected content after the end of the JSON value');
        if (c === ',') {
          i++;
          state = top === '{' ? 'key' : 'value';
        } else if (c === (top === '{' ? '}' : ']')) {
          stack.pop();
          i++;
        } else {
          return fail(i, top === '{' ? "expected ',' or '}'" : "expected ',' or ']'");
        }
        break;
      }
    }
  }
}

/** 1-based line and column of `offset` in `text` (columns count UTF-16 code units, as editors mostly do). */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

function readCapped(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > MAX_CONFIG_FILE_BYTES) {
        throw new ConfigFileError(`--config: '${shown(path)}' is larger than ${MAX_CONFIG_FILE_BYTES} bytes`);
      }
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

/** The path as typed, with control characters escaped and its length capped (it is echoed). */
function shown(path: string): string {
  return boundedText(path, 512).replace(/\n/g, '\\n');
}

/**
 * Reads and parses the `--config` file: a JSON object. Throws a {@link ConfigFileError} naming the file
 * (and, for a syntax error, the line and column) without quoting any of its content.
 */
export function readConfigFile(path: string): OtelKafkaJaegerConfig {
  let text: string;
  try {
    text = readCapped(path);
  } catch (err) {
    if (err instanceof ConfigFileError) throw err;
    // fs messages name the path and the system error ("ENOENT: no such file or directory, open '...'").
    const code = (err as { code?: unknown }).code;
    throw new ConfigFileError(`--config: cannot read '${shown(path)}'${typeof code === 'string' ? ` (${code})` : ''}`);
  }
  // A byte order mark is not JSON whitespace, but editors write one.
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const error = jsonSyntaxError(text);
    const where = error ? lineAndColumn(text, error.offset) : undefined;
    throw new ConfigFileError(
      `--config: '${shown(path)}' is not valid JSON` +
        (error && where ? ` at line ${where.line}, column ${where.column}: ${error.reason}` : ''),
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigFileError(`--config: '${shown(path)}' must hold a JSON object (the config object)`);
  }
  // Only the shape is checked here: the library validates every field and names the bad one.
  return parsed;
}
