// Output of the CLI: JSON lines for machines (logs, results), so `| jq` works on every command.
import type { Logger } from '../logging/logger';

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Writes `value` as one JSON line to stdout. */
export function printJson(value: Record<string, unknown>, stream: NodeJS.WritableStream = process.stdout): void {
  stream.write(`${JSON.stringify(value, jsonReplacer).replace(C1_CONTROLS, unicodeEscape)}\n`);
}

// JSON.stringify escapes C0 controls only; DEL and the C1 range (U+009B is a terminal's CSI) may come from
// record keys and headers, and the line separators break line-oriented readers.
const C1_CONTROLS = /[\u007f-\u009f\u2028\u2029]/g;

function unicodeEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

// Errors and bigints do not survive JSON.stringify as is; log attributes may hold either.
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

/**
 * A {@link Logger} writing `{"time","level","msg",...attrs}` lines to `stream`, dropping levels below
 * `minLevel` (debug is librdkafka-chatty, so it is off unless asked for).
 */
export function jsonLogger(stream: NodeJS.WritableStream, minLevel: Level = 'info'): Logger {
  const line =
    (level: Level) =>
    (msg: string, attrs?: Record<string, unknown>): void => {
      if (ORDER[level] < ORDER[minLevel]) return;
      printJson({ time: new Date().toISOString(), level, msg, ...attrs }, stream);
    };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

/** A logger that discards everything, for admin clients whose chatter would only pollute the output. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
