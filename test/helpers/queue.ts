// Distributed campaigns in tests: `rs-arena worker` processes (the command as a user runs it), the
// server's own per-deployment counts of a key, and records compared without their timings.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves when the worker's log matches `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startWorkerProcess(args: string[], env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['client/bin/rs-arena.mjs', 'worker', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const w: WorkerProcess = {
    child,
    output: () => out,
    async waitFor(re, timeoutMs = 30_000) {
      const end = Date.now() + timeoutMs;
      while (!re.test(out)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the worker exited (${child.exitCode ?? child.signalCode}):\n${out}`);
        if (Date.now() > end) throw new Error(`the worker did not log ${re} in ${timeoutMs} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await once(child, 'exit');
    },
  };
  await w.waitFor(/worker ready/);
  return w;
}

/** Queries the server charged `key` on each deployment (GET /v1/usage). */
export async function usageByDeployment(endpoint: string, key: string): Promise<Map<string, number>> {
  const res = await fetch(`${endpoint}/v1/usage`, { headers: { authorization: `Bearer ${key}` } });
  const body = (await res.json()) as { deployments: { deployment: string; queries: number }[] };
  return new Map(body.deployments.map((d) => [d.deployment, d.queries]));
}

/** The records of a JSONL file by key, without what differs from run to run (wall time) or says how a queue ran them. */
export function comparable(file: string): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const { wallMs: _w, recovery: _r, ...rest } = JSON.parse(line) as Record<string, unknown>;
    out.set(rest.key as string, rest);
  }
  return out;
}
