import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildConfig } from '../../../src/cli/args';
import {
  ConfigFileError,
  MAX_CONFIG_FILE_BYTES,
  jsonSyntaxError,
  lineAndColumn,
  readConfigFile,
} from '../../../src/cli/config-file';

const dir = mkdtempSync(join(tmpdir(), 'okj-config-'));
function file(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof Error) return err.message;
  }
  throw new Error('expected an error');
}

const SECRET = 'hunter2-s3cr3t';

describe('readConfigFile', () => {
  it('names the file, line and column of a syntax error, never the content', () => {
    const path = file(
      'unquoted.json',
      `{\n  "kafka": {\n    "brokers": ["k:9092"],\n    "sasl": { "username": "svc", "password": ${SECRET} }\n  }\n}\n`,
    );
    const message = messageOf(() => readConfigFile(path));
    expect(message).toBe(
      `--config: '${path}' is not valid JSON at line 4, column 46: expected a value (strings must be in double quotes)`,
    );
    expect(message).not.toContain('hunter2');
  });

  it('quotes nothing of a file that is not JSON at all (/etc/passwd)', () => {
    const path = file('passwd', 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n');
    const message = messageOf(() => readConfigFile(path));
    expect(message).toMatch(/at line 1, column 1: /);
    expect(message).not.toMatch(/root|daemon|bash/);
  });

  it('quotes nothing of a secret after an error on the same line, or of a string with a raw line break', () => {
    for (const text of [
      `{"a": 1 "password": "${SECRET}"}`,
      `{"password": "${SECRET}\n"}`,
      `{"password": "${SECRET}`,
      `{"password": "${SECRET}"}}`,
      `{"password": "${SECRET}\\q"}`,
      `{"${SECRET}" 1}`,
    ]) {
      const message = messageOf(() => readConfigFile(file('x.json', text)));
      expect({ text, located: /at line \d+, column \d+: /.test(message) }).toEqual({ text, located: true });
      expect(message).not.toContain(SECRET);
    }
  });

  it('accepts a byte order mark and rejects non-objects, unreadable and oversized files', () => {
    expect(readConfigFile(file('bom.json', '\uFEFF{"kafka":{}}'))).toEqual({ kafka: {} });
    expect(messageOf(() => readConfigFile(file('array.json', '[]')))).toMatch(/must hold a JSON object/);
    expect(messageOf(() => readConfigFile(join(dir, 'missing.json')))).toMatch(/cannot read .*\(ENOENT\)/);
    const big = file('big.json', Buffer.alloc(MAX_CONFIG_FILE_BYTES + 10, 0x20));
    expect(messageOf(() => readConfigFile(big))).toMatch(/larger than/);
    expect(() => readConfigFile(big)).toThrow(ConfigFileError);
  });

  it('is a usage error through buildConfig', () => {
    const path = file('bad.json', `{"kafka": {"sasl": {"password": ${SECRET}}}}`);
    const message = messageOf(() => buildConfig({ config: path }));
    expect(message).toMatch(/line 1, column 33/);
    expect(message).not.toContain(SECRET);
  });
});

describe('jsonSyntaxError', () => {
  it('agrees with JSON.parse on valid and mutated texts', () => {
    const valid = JSON.stringify(
      {
        kafka: { brokers: ['a:1', 'b:2'], sasl: { password: 'p\\"w\u00e9\n' }, rdkafka: { 'linger.ms': 5 } },
        forwarder: { sink: { type: 'otlp-http', url: 'http://x' }, n: [-1.5e3, 0, true, false, null, {}, []] },
      },
      null,
      2,
    );
    // A deterministic generator (xorshift32): every run checks the same inputs.
    let seed = 0x2545f491;
    const next = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const alphabet = '{}[]:,"\\ \n0123456789-+.eEtrufalsn\u0001x';
    let invalid = 0;
    for (let k = 0; k < 5_000; k++) {
      const chars = [...valid];
      for (let m = 1 + next(3); m > 0; m--) {
        const at = next(chars.length);
        const op = next(3);
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, alphabet[next(alphabet.length)]!);
        else chars[at] = alphabet[next(alphabet.length)]!;
      }
      const text = chars.join('');
      let parses = true;
      try {
        JSON.parse(text);
      } catch {
        parses = false;
      }
      const error = jsonSyntaxError(text);
      expect({ text, valid: error === undefined }).toEqual({ text, valid: parses });
      if (error) {
        invalid++;
        expect(error.offset).toBeGreaterThanOrEqual(0);
        expect(error.offset).toBeLessThanOrEqual(text.length);
      }
    }
    expect(invalid).toBeGreaterThan(1_000);
  });

  it('handles any nesting depth', () => {
    expect(jsonSyntaxError('['.repeat(200_000) + ']'.repeat(200_000))).toBeUndefined();
    expect(jsonSyntaxError('['.repeat(200_000))).toEqual({ offset: 200_000, reason: 'unexpected end of file' });
  });

  it('locates lines and columns', () => {
    expect(lineAndColumn('ab\ncd\n', 4)).toEqual({ line: 2, column: 2 });
    expect(lineAndColumn('x', 0)).toEqual({ line: 1, column: 1 });
  });
});
