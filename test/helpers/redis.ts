// A throwaway redis-server per test: its own free port and temporary folder, no RDB snapshots,
// AOF only when a test asks for it, stopped by the test. Tests that need Redis skip locally when
// redis-server is missing and fail in CI (CI=true), where .ci/run installs it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../client/src/server-process.js';

const redisInstalled = spawnSync('redis-server', ['--version']).status === 0;

/** node:test options: skip without redis-server, except in CI where that is a failure. */
export const needsRedis = { skip: !redisInstalled && process.env.CI !== 'true' ? 'redis-server is not installed (CI installs it)' : false } as const;

export interface TestRedis {
  url: string;
  port: number;
  dir: string;
  child: ChildProcess;
  /** Stops (SIGTERM: Redis writes its AOF and exits) and starts again on the same port and folder. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** Stops and removes the folder. */
  destroy(): Promise<void>;
}

export async function startRedis(options: { aof?: boolean } = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'rs-arena-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', options.aof ? 'yes' : 'no', '--daemonize', 'no'];
  const launch = async () => {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        reject(err);
      };
      const onExit = (code: number | null) => fail(new Error(`redis-server exited with ${code}:\n${out}`));
      const timer = setTimeout(() => fail(new Error(`redis-server did not start:\n${out}`)), 15_000);
      child.once('error', (err) => fail(new Error(`cannot start redis-server (${err.message}); install it (apt-get install redis-server)`)));
      child.once('exit', onExit);
      child.stdout!.on('data', (d: Buffer) => {
        out += d;
        if (/Ready to accept connections/.test(out)) {
          clearTimeout(timer);
          child.off('exit', onExit);
          resolve();
        }
      });
    });
    return child;
  };
  const r: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    child: await launch(),
    async restart() {
      await r.stop();
      r.child = await launch();
    },
    async stop() {
      if (r.child.exitCode !== null || r.child.signalCode !== null) return;
      r.child.kill('SIGTERM');
      await once(r.child, 'exit');
    },
    async destroy() {
      await r.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return r;
}
