// CPU time from /proc on Linux, for benchmarks on a shared 2-core machine: wall-clock measures such
// as event-loop utilisation count the time a thread waits for a core, which under load is most of it.
import * as fs from 'node:fs';

/** utime + stime (ms) from a /proc stat file; null where there is none (not Linux, process gone). */
function statCpuMs(statPath: string): number | null {
  try {
    const stat = fs.readFileSync(statPath, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** CPU time of this process's main thread alone (ms). */
export function mainThreadCpuMs(): number | null {
  return statCpuMs(`/proc/self/task/${process.pid}/stat`);
}

/** CPU time of another process (ms), e.g. a benchmark's test server. */
export function processCpuMs(pid: number | undefined): number | null {
  return pid === undefined ? null : statCpuMs(`/proc/${pid}/stat`);
}
