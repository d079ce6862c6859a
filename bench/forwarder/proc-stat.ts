// CPU time of a process and of its threads, from Linux's /proc (USER_HZ is 100 on Linux: 10 ms resolution).
// Used for the processes a benchmark does not run itself (Jaeger) and for the forwarder's threads.
import { readdirSync, readFileSync } from 'node:fs';

const MICROS_PER_TICK = 10_000;

/** utime + stime of a `/proc/.../stat` line, in clock ticks (fields 14 and 15). */
function statTicks(stat: string): number {
  // The command name is parenthesised and may contain spaces: split after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** User + system CPU of a whole process (all its threads) so far, µs; undefined once it is gone. */
export function processCpuMicros(pid: number): number | undefined {
  try {
    return statTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) * MICROS_PER_TICK;
  } catch {
    return undefined;
  }
}

/** CPU ticks of each thread of this process, keyed by thread id, with the group the thread belongs to. */
export type ThreadTicks = Map<string, { group: string; ticks: number }>;

/**
 * Samples this process's threads: `main` (the JS thread), `librdkafka` (threads named `rdk:*`) and `other`
 * (V8's GC and compiler threads, libuv's pool). Empty where /proc is missing.
 */
export function threadTicks(): ThreadTicks {
  const threads: ThreadTicks = new Map();
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return threads;
  }
  for (const tid of tids) {
    try {
      const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      const ticks = statTicks(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'));
      const group = tid === String(process.pid) ? 'main' : name.startsWith('rdk:') ? 'librdkafka' : 'other';
      threads.set(tid, { group, ticks });
    } catch {
      // The thread ended between listing and reading.
    }
  }
  return threads;
}

/** CPU µs per thread group between two {@link threadTicks} samples. */
export function threadCpuMicros(before: ThreadTicks, after: ThreadTicks): Record<string, number> {
  const micros: Record<string, number> = {};
  for (const [tid, { group, ticks }] of after) {
    micros[group] = (micros[group] ?? 0) + (ticks - (before.get(tid)?.ticks ?? 0)) * MICROS_PER_TICK;
  }
  return micros;
}
