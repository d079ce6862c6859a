// The README's complete snippets (the ```ts blocks that start with an import) as a user copies them: into a
// scratch app that installed the packed package (`npm pack`) and the packages the snippets import, run once
// as an ES module (.mts) and once as CommonJS (.cts), against the real stack. The only edits: the broker and
// sink addresses become the stack's, a line announcing the snippet got to its end is appended, and for CommonJS
// a top-level `await` is wrapped in an async function (CommonJS has none). Each snippet must reach its end,
// stay alive (a traced service, a forwarder) and exit 0 on SIGTERM, as its own handler says.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { endpoints } from '../harness/stack';
import { npmInstall, packPackage } from './scratch-app';

const root = join(__dirname, '../../..');
const READY = '{"event":"snippet-ready"}';

/** The README's ```ts blocks that are whole programs (they import what they use). */
function completeSnippets(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  return blocks.filter((b) => b.startsWith('import '));
}

/** The snippet as run here: the stack's addresses, and the ready line at its end. */
function adapted(snippet: string, module: 'esm' | 'cjs'): string {
  let code = snippet
    .replaceAll("'127.0.0.1:9092'", `'${endpoints.kafkaBrokers[0]}'`)
    .replaceAll("'http://127.0.0.1:4318/v1/traces'", `'${endpoints.jaegerOtlpHttpUrl}'`);
  code += `\nconsole.log('${READY}');\n`;
  if (module === 'cjs' && /^await /m.test(code)) {
    // Imports stay at the top; the rest runs in an async function.
    const lines = code.split('\n');
    const firstBody = lines.findIndex((l) => l !== '' && !l.startsWith('import '));
    code = [
      ...lines.slice(0, firstBody),
      'void (async () => {',
      ...lines.slice(firstBody),
      '})().catch((err) => { console.error(err); process.exit(1); });',
    ].join('\n');
  }
  return code;
}

interface Run {
  code: number | null;
  output: string;
}

/** Starts the file, waits for the ready line, sends SIGTERM, and returns how it exited (every wait bounded). */
function runUntilReadyThenTerm(dir: string, file: string): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let terminated = false;
  const onData = (d: Buffer): void => {
    output += d.toString();
    if (!terminated && output.includes(READY)) {
      terminated = true;
      child.kill('SIGTERM');
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${file}: ${terminated ? 'no exit after SIGTERM' : 'never got to its end'}\n${output}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!terminated) reject(new Error(`${file} exited (${code}) before its end:\n${output}`));
      else resolve({ code, output });
    });
  });
}

describe('README snippets, from the packed package', () => {
  let scratch: string | undefined;
  let app = '';
  const snippets = completeSnippets();

  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'okj-snippets-'));
    const tarball = packPackage(scratch);
    app = join(scratch, 'app');
    const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    const dev = rootManifest.devDependencies;
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify(
        {
          name: 'okj-snippet-app',
          version: '0.0.0',
          private: true,
          dependencies: {
            'otel-kafka-jaeger': `file:${tarball}`,
            '@opentelemetry/api': dev['@opentelemetry/api'],
            '@opentelemetry/sdk-node': dev['@opentelemetry/sdk-node'],
            '@opentelemetry/sdk-trace-base': dev['@opentelemetry/sdk-trace-base'],
            tsx: dev.tsx,
          },
        },
        null,
        2,
      ),
    );
    npmInstall(app);
  }, 600_000);

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('finds the two complete programs of the README (the exporter with NodeSDK, the forwarder)', () => {
    expect(snippets).toHaveLength(2);
    expect(snippets[0]).toContain('new KafkaSpanExporter(');
    expect(snippets[1]).toContain('new KafkaToJaegerForwarder(');
  });

  for (const module of ['esm', 'cjs'] as const) {
    it(`runs each as ${module === 'esm' ? 'an ES module' : 'CommonJS'}: it reaches its end and exits 0 on SIGTERM`, async () => {
      for (const [i, snippet] of snippets.entries()) {
        const file = `snippet-${i + 1}.${module === 'esm' ? 'mts' : 'cts'}`;
        writeFileSync(join(app, file), adapted(snippet, module));
        const run = await runUntilReadyThenTerm(app, file);
        expect({ file, code: run.code }).toEqual({ file, code: 0 });
        // The forwarder's snippet prints its health once started: it joined the group on the stack.
        if (snippet.includes('forwarder.health()')) expect(run.output).toContain("state: 'running'");
      }
    }, 180_000);
  }
});
