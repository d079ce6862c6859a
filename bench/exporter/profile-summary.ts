// Summarises V8 CPU profiles (`.cpuprofile`, as written by `node --cpu-prof`, e.g. via
// `npm run bench:exporter -- --cpu-prof=<dir>`): self time by function and by origin (package, source file
// of this repo, Node internals, native/GC).
//   tsx bench/exporter/profile-summary.ts <file.cpuprofile> [more files] [--top=25]
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a function comes from: an npm package, a file of this repo, Node itself, or V8/native. */
function origin(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const path = url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg?.[1]) return pkg[1];
  return relative(process.cwd(), path);
}

function summarise(file: string, top: number): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMicros = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    if (id === undefined) continue;
    // timeDeltas[i] is the time since the previous sample, so it belongs to the previous sample's node.
    const delta = profile.timeDeltas[i + 1] ?? 0;
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + delta);
  }
  const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  for (const [id, micros] of selfMicros) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = origin(url, functionName);
    const name = `${functionName || '(anonymous)'} ${url ? `${where}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
    byOrigin.set(where, (byOrigin.get(where) ?? 0) + micros);
  }
  const rows = (map: Map<string, number>, n: number): string[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([k, v]) =>
          `| ${((100 * v) / total).toFixed(1)} % | ${(v / 1000).toFixed(0)} ms | ${k.replaceAll('|', '\\|')} |`,
      );
  return [
    `### ${file} — ${(total / 1000).toFixed(0)} ms sampled on the main thread`,
    '',
    '| self | ms | origin |',
    '|---:|---:|---|',
    ...rows(byOrigin, 12),
    '',
    '| self | ms | function |',
    '|---:|---:|---|',
    ...rows(byFunction, top),
    '',
  ].join('\n');
}

function main(argv: string[]): number {
  const topArg = argv.find((a) => a.startsWith('--top='));
  const top = topArg ? Number(topArg.slice('--top='.length)) : 25;
  const files = argv.filter((a) => !a.startsWith('--'));
  if (files.length === 0 || !Number.isInteger(top) || top <= 0) {
    console.error('usage: tsx bench/exporter/profile-summary.ts <file.cpuprofile>... [--top=25]');
    return 2;
  }
  for (const file of files) console.log(summarise(file, top));
  return 0;
}

process.exitCode = main(process.argv.slice(2));
