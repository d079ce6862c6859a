// Detached service processes managed through pid files, so a process started by one command (stack:up,
// jest's globalSetup) can be stopped or killed by another (stack:down, an outage test).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export interface ServiceProcessOptions {
  /** Human name used in messages, e.g. `kafka`. */
  name: string;
  pidFile: string;
  logFile: string;
  /** A string that must appear in /proc/<pid>/cmdline, so a recycled pid is never mistaken for ours. */
  marker: string;
}

const POLL_MILLIS = 50;

export class ServiceProcess {
  readonly #opts: ServiceProcessOptions;

  constructor(opts: ServiceProcessOptions) {
    this.#opts = opts;
  }

  get name(): string {
    return this.#opts.name;
  }

  get logFile(): string {
    return this.#opts.logFile;
  }

  /** The pid of our running process, or undefined. */
  pid(): number | undefined {
    if (!existsSync(this.#opts.pidFile)) return undefined;
    const pid = Number(readFileSync(this.#opts.pidFile, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return isOurs(pid, this.#opts.marker) ? pid : undefined;
  }

  isRunning(): boolean {
    return this.pid() !== undefined;
  }

  /** Starts the command detached, appending its output to the log file. */
  spawn(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
    if (this.isRunning()) throw new Error(`${this.#opts.name} is already running (pid ${this.pid()})`);
    mkdirSync(dirname(this.#opts.logFile), { recursive: true });
    mkdirSync(dirname(this.#opts.pidFile), { recursive: true });
    const fd = openSync(this.#opts.logFile, 'a');
    try {
      writeFileSync(
        fd,
        `\n==== ${new Date().toISOString()} starting ${this.#opts.name}: ${command} ${args.join(' ')}\n`,
      );
      const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env });
      if (child.pid === undefined) throw new Error(`${this.#opts.name}: spawn of ${command} failed`);
      child.unref();
      writeFileSync(this.#opts.pidFile, String(child.pid));
      return child.pid;
    } finally {
      closeSync(fd);
    }
  }

  /** SIGTERM, then SIGKILL after `timeoutMillis`; resolves once the process is gone. */
  async stop(timeoutMillis = 30_000): Promise<void> {
    const pid = this.pid();
    if (pid === undefined) return this.#forget();
    signal(pid, 'SIGTERM');
    if (!(await waitForExit(pid, this.#opts.marker, timeoutMillis))) {
      signal(pid, 'SIGKILL');
      await waitForExit(pid, this.#opts.marker, 10_000);
    }
    this.#forget();
  }

  /** SIGKILL: the process gets no chance to flush or shut down cleanly. */
  async kill(): Promise<void> {
    const pid = this.pid();
    if (pid === undefined) return this.#forget();
    signal(pid, 'SIGKILL');
    if (!(await waitForExit(pid, this.#opts.marker, 10_000))) {
      throw new Error(`${this.#opts.name} (pid ${pid}) survived SIGKILL for 10 s`);
    }
    this.#forget();
  }

  /** SIGSTOP (`frozen`) or SIGCONT: a process that hangs with its sockets open, as a stalled server does. */
  freeze(frozen: boolean): void {
    const pid = this.pid();
    if (pid === undefined) throw new Error(`${this.#opts.name} is not running`);
    signal(pid, frozen ? 'SIGSTOP' : 'SIGCONT');
  }

  /** The last `lines` lines of the log, for error messages. */
  tail(lines = 40): string {
    if (!existsSync(this.#opts.logFile)) return '(no log file)';
    const all = readFileSync(this.#opts.logFile, 'utf8').trimEnd().split('\n');
    return all.slice(-lines).join('\n');
  }

  #forget(): void {
    rmSync(this.#opts.pidFile, { force: true });
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Alive, not a zombie, and its command line carries our marker. */
function isOurs(pid: number, marker: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The state field follows the parenthesised command name, which may itself contain spaces.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
  } catch {
    return false;
  }
}

async function waitForExit(pid: number, marker: string, timeoutMillis: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMillis;
  while (isOurs(pid, marker)) {
    if (Date.now() >= deadline) return false;
    await delay(POLL_MILLIS);
  }
  return true;
}

/** Polls `probe` until it resolves true or the timeout passes. */
export async function pollUntil(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMillis: number,
  intervalMillis = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  let lastError: unknown;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}${cause}`);
    }
    await delay(intervalMillis);
  }
}
