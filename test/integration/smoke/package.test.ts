// The built package (dist/, from `npm run build`) loads by its own name both ways a user loads it. Node
// resolves a package's own name through its `exports` map from inside the package (self-reference).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

function run(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();
}

describe('the built package', () => {
  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  });

  it('loads with require() (CommonJS)', () => {
    const out = run([
      '-e',
      "const m = require('otel-kafka-jaeger'); console.log(JSON.stringify(Object.keys(m).sort()))",
    ]);
    expect(JSON.parse(out)).toEqual(expect.arrayContaining(['VERSION', 'KafkaSpanExporter', 'ConfigError']));
  });

  it('loads with import (ESM) and exposes the same names', () => {
    const esm = run([
      '--input-type=module',
      '-e',
      "const m = await import('otel-kafka-jaeger'); console.log(JSON.stringify(Object.keys(m).sort()))",
    ]);
    const cjs = run(['-e', "console.log(JSON.stringify(Object.keys(require('otel-kafka-jaeger')).sort()))"]);
    expect(JSON.parse(esm)).toEqual(JSON.parse(cjs));
  });

  it('resolves to the ESM and CJS builds respectively', () => {
    expect(run(['--input-type=module', '-e', "console.log(import.meta.resolve('otel-kafka-jaeger'))"])).toMatch(
      /dist\/index\.mjs$/,
    );
    expect(run(['-e', "console.log(require.resolve('otel-kafka-jaeger'))"])).toMatch(/dist\/index\.js$/);
  });
});
