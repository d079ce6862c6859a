// Runs test/integration/forwarder/forwarder-child.ts as a separate process (so it can be killed with -9).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import type { OtelKafkaJaegerConfig } from '../../../src/config/types';

const CHILD = join(__dirname, 'forwarder-child.ts');
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

export interface ForwarderChild {
  process: ChildProcess;
  /** Resolves when the child printed `event` (rejects if it exits first or after `timeoutMillis`). */
  waitFor(event: string, timeoutMillis?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or signal) once the child exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/**
 * Starts a forwarder child. `minRequestMillis`: every sink request takes at least that long (the config's
 * OTLP/HTTP sink behind a delay), which caps its throughput by config (see forwarder-child.ts).
 */
export function spawnForwarder(
  config: OtelKafkaJaegerConfig,
  opts: { minRequestMillis?: number } = {},
): ForwarderChild {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: {
      ...process.env,
      // A logger's functions cannot cross into the child (OKJ_DEBUG sets one): leave it out.
      OKJ_FORWARDER_CONFIG: JSON.stringify({ ...config, logger: undefined }),
      ...(opts.minRequestMillis ? { OKJ_CHILD_MIN_REQUEST_MILLIS: String(opts.minRequestMillis) } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  const events: Record<string, unknown>[] = [];
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const line of chunk.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        events.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        continue;
      }
    }
    for (const l of listeners) l();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      for (const l of listeners) l();
      resolve({ code, signal });
    });
  });
  return {
    process: child,
    exited,
    output: () => out,
    waitFor(event, timeoutMillis = 60_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = events.find((e) => e.event === event);
          if (found) {
            done();
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(new Error(`forwarder child exited before '${event}':\n${out.slice(-3_000)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no '${event}' from the forwarder child within ${timeoutMillis} ms:\n${out.slice(-3_000)}`));
        }, timeoutMillis);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}
