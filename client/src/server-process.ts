// Starts the rs-arena server as its own process (as `npm start` would) for the demo, experiments
// and benchmarks: the server's CPU stays out of the client's, and both cores are used.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { until } from '@rs-arena/shared/retry';

// The server's entry in this module's own form: TypeScript in the repository, JavaScript in a
// compiled tree (scripts/compiled-tree.mjs), which runs without a loader.
const COMPILED = import.meta.url.endsWith('.js');
const MAIN = fileURLToPath(new URL(`../../server/src/main.${COMPILED ? 'js' : 'ts'}`, import.meta.url));

export interface ServerProcess {
  url: string;
  keys: { admin: string; evaluator: string; client: string };
  child: ChildProcess;
  /** Server CPU time so far (user + system, ms), from /proc (Linux), for cost-per-query figures. */
  cpuMs(): number;
  stop(): Promise<void>;
}

export async function startServer(
  options: {
    config?: string;
    env?: Record<string, string>;
    timeoutMs?: number /** Node flags, e.g. --cpu-prof (not allowed in NODE_OPTIONS). */;
    nodeArgs?: string[];
  } = {},
): Promise<ServerProcess> {
  const keys = { admin: secret(), evaluator: secret(), client: secret() };
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // The server's TypeScript sources, with the workspace packages resolved to theirs (no build step).
  const loader = COMPILED ? [] : ['--import', 'tsx'];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--conditions=rs-arena-source', ...loader, MAIN], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      RS_ARENA_ADMIN_KEY: keys.admin,
      RS_ARENA_EVALUATOR_KEY: keys.evaluator,
      RS_ARENA_CLIENT_KEY: keys.client,
      ...(options.config ? { RS_ARENA_CONFIG: options.config } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // Keep the tail only: a long run at LOG_LEVEL=info must not grow memory without bound.
  const keep = (d: Buffer) => {
    output = (output + d).slice(-65_536);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  // Ready once /readyz answers 200; the wait ends at once if the server exits.
  const exited = new AbortController();
  const onExit = (code: number | null) => exited.abort(new Error(`the server exited with code ${code}:\n${output}`));
  child.once('exit', onExit);
  try {
    await until(async () => (await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5_000) })).status === 200, {
      intervalMs: 200,
      timeoutMs: options.timeoutMs ?? 60_000,
      message: () => `the server did not become ready in time:\n${output}`,
      signal: exited.signal,
    });
  } finally {
    child.off('exit', onExit);
  }
  return {
    url: base,
    keys,
    child,
    cpuMs: () => processCpuMs(child.pid!),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

const secret = () => randomBytes(24).toString('base64url');

/** A port the OS just handed out and released (the server binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** utime + stime of a process, in ms (clock ticks are 100 Hz on Linux). */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}
