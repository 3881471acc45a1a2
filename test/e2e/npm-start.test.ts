// `npm start` as an operator (or a process manager) runs it, then SIGTERM to npm: nothing may keep
// serving. npm forwards the signal to its child, which must be the server itself (not a shell that
// dies and leaves the server behind); the server closes its Redis connections on the way out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../client/src/server-process.js';
import { needsRedis, startRedis } from '../helpers/redis.js';
import { ROOT } from '../helpers/root.js';

const root = ROOT;

/** The pids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function npmStartThenSigterm(env: Record<string, string>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rs-arena-npm-start-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ deployments: [{ id: 'plain', model: 'fmnist-cnn' }] }));
  const port = await freePort();
  const npm = spawn('npm', ['start'], {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      RS_ARENA_CONFIG: config,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      RS_ARENA_ADMIN_KEY: 'npm-start-admin-key-0123',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  npm.stdout!.on('data', (d) => (output += d));
  npm.stderr!.on('data', (d) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  try {
    const end = Date.now() + 60_000;
    while (
      !(await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      assert.ok(Date.now() < end && npm.exitCode === null, `npm start did not serve:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // Every process npm started (the server, and a shell if one sits between).
    const tree = (pid: number): number[] => childrenOf(pid).flatMap((c) => [c, ...tree(c)]);
    const started = tree(npm.pid!);
    assert.ok(started.length > 0);
    npm.kill('SIGTERM');
    await once(npm, 'exit');
    const gone = Date.now() + 15_000;
    while (started.some(alive) && Date.now() < gone) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(started.filter(alive), [], `left running after SIGTERM to npm:\n${output}`);
    assert.equal(
      await fetch(`${base}/readyz`).then(
        () => 'listening',
        () => 'closed',
      ),
      'closed',
    );
  } finally {
    if (npm.exitCode === null) npm.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

test('SIGTERM to `npm start` leaves no serving process behind', { timeout: 90_000 }, async () => {
  await npmStartThenSigterm({});
});

test('SIGTERM to `npm start` with REDIS_URL: the server closes its Redis connections', { ...needsRedis, timeout: 90_000 }, async () => {
  const redis = await startRedis();
  const probe = new Redis(redis.url);
  try {
    await npmStartThenSigterm({ REDIS_URL: redis.url });
    const clients = (await probe.client('LIST')) as string;
    assert.equal(clients.trim().split('\n').length, 1, `only this probe stays connected:\n${clients}`);
  } finally {
    probe.disconnect();
    await redis.destroy();
  }
});
