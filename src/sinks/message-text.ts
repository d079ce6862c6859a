// Text the sinks put into error messages: option values, excerpts of what a receiver answered, and no secrets.

/** Shorter header values are not secrets worth redacting, and redacting them would garble messages. */
export const MIN_REDACTED_LENGTH = 4;
const EXCERPT_CHARS = 300;
/** Control characters and U+FFFD (undecodable bytes): noise in an excerpt of a binary or odd body. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f\ufffd]+/g;

/** A short rendering of an option value for a config error: strings quoted and cut at 50 characters. */
export function describeValue(value: unknown): string {
  return typeof value === 'string' ? `'${value.slice(0, 50)}'` : String(value);
}

/** `text` on one line, without control characters, cut at 300 characters. */
export function excerpt(text: string): string {
  const clean = text.replace(UNPRINTABLE, ' ').replace(/\s+/g, ' ').trim();
  return clean.length > EXCERPT_CHARS ? `${clean.slice(0, EXCERPT_CHARS - 1)}…` : clean;
}

/** Blanks every configured secret (header or metadata values, URL password) out of `message`. */
export function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out;
}
