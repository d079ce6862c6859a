import { MAX_MESSAGE_CHARS, boundedText } from '../../../src/errors/bounded-text';
import { SerializationError, SinkError } from '../../../src/errors/errors';
import { boundedLogger } from '../../../src/logging/logger';

describe('boundedText', () => {
  it('leaves ordinary text alone, newlines and tabs included', () => {
    expect(boundedText('HTTP 400: bad request\n\tat line 2')).toBe('HTTP 400: bad request\n\tat line 2');
  });

  it('escapes control characters', () => {
    expect(boundedText('a\u0000b\u001b[31mc\u007f')).toBe('a\\x00b\\x1b[31mc\\x7f');
  });

  it('escapes line separators, carriage returns and bidirectional overrides', () => {
    expect(boundedText('a\rb\u2028c\u202ed')).toBe('a\\x0db\\u2028c\\u202ed');
  });

  it('cuts long text and says how much was left out', () => {
    const out = boundedText('x'.repeat(500_000));
    expect(out.length).toBeLessThan(MAX_MESSAGE_CHARS + 40);
    expect(out).toMatch(/… \(497952 more characters\)$/);
  });

  it('cuts by the escaped length: a value of NUL bytes cannot grow past the cap', () => {
    expect(boundedText('\u0000'.repeat(10_000)).length).toBeLessThan(MAX_MESSAGE_CHARS + 40);
  });
});

describe('error messages', () => {
  it('are bounded and escaped whatever record content they quote', () => {
    const err = new SerializationError(`not OTLP: got '${'\u001b'.repeat(10)}${'A'.repeat(500_000)}'`);
    expect(err.message.length).toBeLessThan(MAX_MESSAGE_CHARS + 40);
    expect(err.message).not.toContain('\u001b');
    expect(new SinkError('x'.repeat(10_000), { retriable: true }).message.length).toBeLessThan(MAX_MESSAGE_CHARS + 40);
  });
});

describe('boundedLogger', () => {
  it('bounds the message and every string attribute, and contains a logger that throws', () => {
    const lines: [string, Record<string, unknown> | undefined][] = [];
    const logger = boundedLogger({
      debug: () => {
        throw new Error('broken logger');
      },
      info: (m, a) => lines.push([m, a]),
      warn: () => {},
      error: () => {},
    });
    logger.info('m\u001b', { error: 'e'.repeat(100_000), partition: 3 });
    expect(lines[0]![0]).toBe('m\\x1b');
    expect((lines[0]![1]!.error as string).length).toBeLessThan(MAX_MESSAGE_CHARS + 40);
    expect(lines[0]![1]!.partition).toBe(3);
    expect(() => logger.debug('x')).not.toThrow();
  });
});
