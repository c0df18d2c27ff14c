// Reading process and machine counters from /proc (Linux only; elsewhere every reading is undefined and the
// report says "n/a").
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let ticksPerSecond = 100;
try {
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // getconf missing: Linux's USER_HZ is 100 everywhere that matters.
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Resident set size and its peak (VmHWM), in MiB. */
export function memoryOf(pid: number): { rssMiB: number; peakMiB: number } | undefined {
  const status = read(`/proc/${pid}/status`);
  if (!status) return undefined;
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
}

/** CPU seconds (user + system) used so far by a process, or by one of its threads (`/proc/<pid>/task/<tid>`). */
export function cpuSecondsOf(pid: number, tid?: number): number | undefined {
  const stat = read(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`);
  if (!stat) return undefined;
  // The command name may contain spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** CPU seconds of every thread of a process, by thread name (libuv pool, V8 GC helpers, main). */
export function threadCpuOf(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const name = Number(tid) === pid ? 'main' : (read(`/proc/${pid}/task/${tid}/comm`)?.trim() ?? '?');
    const s = cpuSecondsOf(pid, Number(tid));
    if (s !== undefined) out.set(name, (out.get(name) ?? 0) + s);
  }
  return out;
}

/** Machine-wide busy and total CPU seconds (all cores) from /proc/stat. */
export function machineCpu(): { busyS: number; totalS: number } | undefined {
  const stat = read('/proc/stat');
  if (!stat) return undefined;
  const v = stat.split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = v[3]! + v[4]!;
  return { busyS: (total - idle) / ticksPerSecond, totalS: total / ticksPerSecond };
}

/** CPU model as /proc/cpuinfo names it. */
export function cpuModel(): string {
  return /^model name\s*:\s*(.+)$/m.exec(read('/proc/cpuinfo') ?? '')?.[1]?.trim() ?? 'unknown';
}

/**
 * A CPU meter over a phase: the process under test (total and main thread), a set of helper processes (e.g. the
 * PostgreSQL backends serving the benchmark database), this process (the load generator), and the machine.
 */
export class CpuMeter {
  private readonly t0 = process.hrtime.bigint();
  private readonly self0 = process.cpuUsage();
  private readonly machine0 = machineCpu();
  private readonly target0: number | undefined;
  private readonly targetMain0: number | undefined;
  private readonly helpers0 = new Map<number, number>();

  constructor(
    private readonly targetPid: number | undefined,
    helperPids: number[] = [],
  ) {
    this.target0 = targetPid === undefined ? undefined : cpuSecondsOf(targetPid);
    this.targetMain0 = targetPid === undefined ? undefined : cpuSecondsOf(targetPid, targetPid);
    for (const p of helperPids) {
      const s = cpuSecondsOf(p);
      if (s !== undefined) this.helpers0.set(p, s);
    }
  }

  /** Utilisation over the phase, as a fraction of ONE core (1.0 = one core busy the whole time). */
  stop(helperPids: number[] = []): CpuReading {
    const wallS = Number(process.hrtime.bigint() - this.t0) / 1e9;
    const self = process.cpuUsage(this.self0);
    const machine1 = machineCpu();
    const target1 = this.targetPid === undefined ? undefined : cpuSecondsOf(this.targetPid);
    const targetMain1 = this.targetPid === undefined ? undefined : cpuSecondsOf(this.targetPid, this.targetPid);
    let helpersS: number | undefined;
    const all = new Set([...this.helpers0.keys(), ...helperPids]);
    if (all.size) {
      helpersS = 0;
      for (const p of all) {
        const now = cpuSecondsOf(p);
        // A backend that appeared during the phase counts from zero; one that went away is lost (rare: pools keep them).
        if (now !== undefined) helpersS += now - (this.helpers0.get(p) ?? 0);
      }
    }
    const frac = (s: number | undefined) => (s === undefined ? undefined : s / wallS);
    return {
      wallS,
      target: frac(target1 !== undefined && this.target0 !== undefined ? target1 - this.target0 : undefined),
      targetMain: frac(targetMain1 !== undefined && this.targetMain0 !== undefined ? targetMain1 - this.targetMain0 : undefined),
      helpers: frac(helpersS),
      loadGenerator: (self.user + self.system) / 1e6 / wallS,
      machine: machine1 && this.machine0 ? (machine1.busyS - this.machine0.busyS) / wallS : undefined,
    };
  }
}

export interface CpuReading {
  wallS: number;
  target?: number;
  targetMain?: number;
  helpers?: number;
  loadGenerator: number;
  machine?: number;
}
