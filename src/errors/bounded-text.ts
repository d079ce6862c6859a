// Record content is attacker-controlled: a producer can put megabytes, NUL or ESC bytes into a value or a
// header, and the decoder and sinks quote what they could not read. Everything that reaches an error
// message, a log attribute or `health().lastError` goes through here, so no such text can flood a log
// pipeline or inject terminal escapes into an operator's screen.

/** The longest error message (and log attribute text) this library produces, in characters. */
export const MAX_MESSAGE_CHARS = 2_048;

/**
 * Control characters but newline and tab (C1 included: 0x9b is a terminal CSI), line and paragraph
 * separators (line breaks to some log viewers) and bidirectional overrides (text that reads other than it is).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/**
 * `text` with control characters escaped (`\x1b`; newline and tab kept) and, when longer than `maxChars`
 * after escaping, cut with a note of how many characters of the original were left out.
 */
export function boundedText(text: string, maxChars: number = MAX_MESSAGE_CHARS): string {
  if (text.length <= maxChars && !UNSAFE.test(text)) return text;
  let out = '';
  let i = 0;
  for (; i < text.length; i++) {
    const c = text[i]!;
    const piece = UNSAFE.test(c) ? escape(c) : c;
    if (out.length + piece.length > maxChars) break;
    out += piece;
  }
  return i < text.length ? `${out}… (${text.length - i} more characters)` : out;
}

function escape(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
}
