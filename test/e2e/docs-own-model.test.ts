// docs/serve-your-own-model.md as a user follows it: from the bare SqueezeNet ONNX file of the
// shared ImageNet folder to a budgeted RS endpoint, in at most five commands, no file of the
// repository touched (the model folder is RS_ARENA_MODELS_DIR in a temporary folder). Skips when
// ../shared/imagenet is absent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../client/src/server-process.js';
import { ROOT } from '../helpers/root.js';

const root = ROOT;
const IMAGENET = resolve(root, '../shared/imagenet');
const present = existsSync(join(IMAGENET, 'squeezenet1.1-fp32.onnx')) && existsSync(join(IMAGENET, 'images'));

/** The ```bash blocks of the page, in order. */
function blocks(page: string): string[] {
  return [...readFileSync(page, 'utf8').matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

test('docs/serve-your-own-model.md: five commands from an ONNX file to a budgeted RS endpoint', {
  skip: !present && 'no ../shared/imagenet',
  timeout: 600_000,
}, async () => {
  const cmds = blocks(join(root, 'docs/serve-your-own-model.md'));
  // A command may continue over lines with a trailing backslash; comments are not commands.
  const count = cmds
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trim().startsWith('#')).length;
  assert.ok(count <= 5, `${count} commands`);
  const work = mkdtempSync(join(tmpdir(), 'rs-arena-own-model-'));
  const before = spawnSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' }).stdout;
  const env = {
    ...process.env,
    IMAGENET,
    RS_ARENA_MODELS_DIR: join(work, 'models'),
    PORT: String(await freePort()),
    ADMIN_KEY: 'own-model-admin-key-0123456789',
    CLIENT_KEY: 'own-model-client-key-0123456789',
  };
  const child = spawn('bash', ['-euo', 'pipefail', '-c', cmds.join('\n')], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number>((done) => child.on('exit', (c) => done(c ?? -1)));
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    /* gone */
  }
  try {
    assert.equal(code, 0, stderr);
    assert.equal(stderr.match(/npm warn/gi), null, stderr);
    // 1. What was read from the model.
    assert.match(stdout, /squeezenet: input "input" \[3, 224, 224\] in \[0, 1\], output "output" 1000 classes, sha256 [0-9a-f]{64}/);
    assert.deepEqual(readdirSync(join(work, 'models', 'squeezenet')).sort(), ['config.json', 'labels.tsv', 'model.onnx']);
    // 4. A label with its class name, under the client's budget of 500.
    const answer = JSON.parse(/\{"labels".*?\}\}/.exec(stdout)![0]);
    assert.equal(answer.labels.length, 1);
    assert.equal(typeof answer.classNames[0], 'string');
    assert.deepEqual([answer.usage.used, answer.usage.limit], [1, 500]);
    // 5. The accuracy table and the σ the cost allows (or why none does).
    assert.match(stdout, /σ\s+n\s+images\s+accuracy\s+95% interval/);
    assert.match(stdout, /^0\s+1\s+20\s+\d+\.\d%\s+\d+\.\d%–\d+\.\d%$/m);
    assert.match(stdout, /^0\.25\s+10\s+20\s/m);
    assert.match(stdout, /(σ = [\d.]+ costs [\d.]+ points|no σ of the list costs 10 points or less)/);
    // No file of the repository changed.
    assert.equal(spawnSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' }).stdout, before);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
