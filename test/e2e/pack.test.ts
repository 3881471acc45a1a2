// The client as another project uses it: `npm pack` of shared and client (their prepack compiles
// them to dist/), both tarballs installed into an empty project, a TypeScript program there
// type-checked against the installed declarations, then run in plain Node (no tsx, no source
// condition) to attack a listening server. The attack's own count must equal the server's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PredictResponse, UsageResponse } from '@rs-arena/shared/api';
import { bytesToFloat32, float32ToBytes } from '@rs-arena/shared/tensor';
import { KEYS, auth, binary, images, testApp } from '../helpers/app.js';
import { ROOT } from '../helpers/root.js';

const root = ROOT;
const BUDGET = 150;

let app: FastifyInstance;
let base: string;
const dir = mkdtempSync(join(tmpdir(), 'rs-arena-pack-'));

before(async () => {
  app = await testApp({}, null);
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * What the empty project runs in: no NODE_OPTIONS (the repository's "rs-arena-source" condition
 * would point it at sources the tarballs do not hold) and no npm settings of the enclosing
 * `npm test` that describe this repository.
 */
function consumerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  for (const name of Object.keys(env)) {
    if (/^npm_(package_|lifecycle_|config_local_prefix$)/.test(name)) delete env[name];
  }
  return env;
}

function run(command: string, args: string[], cwd: string): Promise<string> {
  const child = spawn(command, args, { cwd, env: consumerEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${stderr}\n${stdout}`))));
  });
}

/** The consumer's program: only the package's public surface, typed through its declarations. */
const PROGRAM = `
import { readFileSync, writeFileSync } from 'node:fs';
import { ATTACKS, CountingOracle, HttpOracle, type AttackResult } from '@rs-arena/client';

const [endpoint, key, deployment, imageFile, label, budget] = process.argv.slice(2);
const x0 = new Float32Array(new Uint8Array(readFileSync(imageFile)).buffer);
const http = await HttpOracle.connect({ endpoint, key, deployment });
const oracle = new CountingOracle(http, Number(label), Number(budget));
const result: AttackResult = await ATTACKS.hsja.run(oracle, x0, { seed: 1 });
const a = result.adversarial;
if (a) writeFileSync('adversarial.f32', new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
const used = (await http.usage()).deployments.find((d) => d.deployment === deployment)?.queries;
await http.close();
console.log(JSON.stringify({ success: result.success, l2: result.l2, queries: result.queries.total, counted: oracle.queries, used, stopReason: result.stopReason }));
`;

test('the packed client, installed into an empty project, attacks a listening server', { timeout: 300_000 }, async () => {
  const packed = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', dir, '-w', '@rs-arena/shared', '-w', '@rs-arena/client'], root)) as {
    name: string;
    filename: string;
    files: { path: string }[];
  }[];
  assert.deepEqual(packed.map((p) => p.name).sort(), ['@rs-arena/client', '@rs-arena/shared']);
  for (const p of packed) {
    const paths = p.files.map((f) => f.path);
    assert.ok(paths.includes('dist/index.js') && paths.includes('dist/index.d.ts'), `${p.name} ships compiled JS and declarations`);
    assert.ok(!paths.some((f) => f.startsWith('src/') || f.endsWith('.tsbuildinfo')), `${p.name} ships no TypeScript sources, no build state`);
  }

  const project = join(dir, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // From the local npm cache when it holds the dependencies (offline), else from the registry.
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...packed.map((p) => join(dir, p.filename))], project);
  const installed = JSON.parse(readFileSync(join(project, 'node_modules/@rs-arena/client/package.json'), 'utf8'));
  assert.deepEqual(
    Object.keys(installed.dependencies).filter((d) => d.startsWith('@rs-arena/')),
    ['@rs-arena/shared'],
  );

  // Type-checked with the repository's compiler and Node's types, as a strict NodeNext project.
  writeFileSync(join(project, 'attack.ts'), PROGRAM);
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: true,
        types: ['node'],
        typeRoots: [join(root, 'node_modules/@types')],
      },
      files: ['attack.ts'],
    }),
  );
  await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', '.'], project);

  // An image the undefended model labels correctly (asked with the evaluator's key, not the attacker's).
  const { values, labels } = images(8);
  const answer = await app.inject({
    method: 'POST',
    url: '/v1/deployments/plain/predict',
    headers: { ...auth('evaluator'), ...binary(values).headers },
    payload: binary(values).payload,
  });
  const predicted = PredictResponse.parse(answer.json()).labels;
  const i = predicted.findIndex((l, k) => l === labels[k]);
  assert.ok(i >= 0, 'one of the first 8 images is classified correctly');
  const x0 = values.slice(i * 784, (i + 1) * 784);
  writeFileSync(join(project, 'x0.f32'), float32ToBytes(x0));

  const out = JSON.parse(await run(process.execPath, ['attack.js', base, KEYS.client, 'plain', 'x0.f32', String(labels[i]), String(BUDGET)], project));
  assert.ok(out.counted > 0 && out.counted <= BUDGET, `queries within the budget: ${out.counted}`);
  assert.equal(out.queries, out.counted);
  const usage = UsageResponse.parse((await app.inject({ method: 'GET', url: '/v1/usage', headers: auth('client') })).json());
  assert.equal(usage.deployments.find((d) => d.deployment === 'plain')?.queries, out.counted, 'the server counted what the client counted');
  assert.equal(out.used, out.counted, 'HttpOracle.usage() reads the same count');

  // The attack worked: a point the server labels otherwise, at the distance the attack reported.
  assert.equal(out.success, true, `HSJA on the undefended CNN within ${BUDGET} queries (${out.stopReason})`);
  const adversarial = bytesToFloat32(readFileSync(join(project, 'adversarial.f32')));
  const check = await app.inject({
    method: 'POST',
    url: '/v1/deployments/plain/predict',
    headers: { ...auth('evaluator'), ...binary(adversarial).headers },
    payload: binary(adversarial).payload,
  });
  assert.notEqual(PredictResponse.parse(check.json()).labels[0], labels[i]);
  const l2 = Math.hypot(...adversarial.map((v, k) => v - x0[k]));
  assert.ok(Math.abs(l2 - out.l2) < 1e-4 && out.l2 > 0, `reported L2 ${out.l2}, measured ${l2}`);
});
