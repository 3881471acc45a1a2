// CPU time the hypervisor gave to other guests ("steal", /proc/stat): on a shared virtual machine it
// decides a benchmark's figures as much as the code does. On 2026-12-02 a 2-core Intel Xeon guest
// showed 13-28% steal with its load average at 0.6, and the HTTP floor's paired runs at n = 1 moved
// from 1,548 to 4,715 queries/s within one run: a load average reads only this guest's own queue, so
// the bench reports the steal share beside it.
import { readFileSync } from 'node:fs';

const readStat = (): string | null => {
  try {
    return readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
};

/**
 * The machine's CPU time so far, in clock ticks (from /proc/stat, or the text given): all of it, and
 * the part stolen; null where there is no such line (not Linux, or a kernel without a steal field).
 */
export function cpuTicks(stat: string | null = readStat()): { total: number; steal: number } | null {
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice": guest time is already in user.
  const line = stat?.split('\n').find((l) => l.startsWith('cpu '));
  const fields = line?.trim().split(/\s+/).slice(1, 9).map(Number) ?? [];
  if (fields.length < 8 || fields.some((f) => !Number.isFinite(f))) return null;
  return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7] };
}

/** The share of the machine's CPU time stolen between two readings (0-1); null without both readings or time between them. */
export function stealShare(start: ReturnType<typeof cpuTicks>, end: ReturnType<typeof cpuTicks>): number | null {
  if (!start || !end || end.total <= start.total) return null;
  return (end.steal - start.steal) / (end.total - start.total);
}
