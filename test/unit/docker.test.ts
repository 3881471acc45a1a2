// No Docker engine here, so the images are checked by what can be done without one: the compose
// file validates against the Compose Specification's JSON schema (docker/compose-spec/), and each
// Dockerfile is replayed: exactly its COPY list (with .dockerignore applied) copied into a
// temporary folder standing for its WORKDIR, its `npm ci` run there (offline-capable: from npm's
// cache), its command started with the environment the compose file gives it, and asked over HTTP.
// The server replay gets a REDIS_URL to a test Redis; the client replay attacks the replayed server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { float32ToBytes } from '@rs-arena/shared/tensor';
import { images } from '../helpers/app.js';
import { freePort } from '../../client/src/server-process.js';
import { needsRedis, startRedis } from '../helpers/redis.js';
import { parsePreset } from '../../client/src/experiments/presets.js';
import { runPreset } from '../../client/src/experiments/run.js';
import { ROOT } from '../helpers/root.js';

const root = ROOT;
const compose = parse(readFileSync(`${root}docker-compose.yml`, 'utf8'));

/** Files matching a Dockerfile-style source: a path whose last segment may hold `*`. */
function glob(pattern: string): string[] {
  const dir = dirname(pattern);
  const name = basename(pattern);
  if (!name.includes('*')) return existsSync(`${root}${pattern}`) ? [pattern] : [];
  if (!existsSync(`${root}${dir}`)) return [];
  const re = new RegExp(`^${name.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
  return readdirSync(`${root}${dir}`)
    .filter((f) => re.test(f))
    .map((f) => `${dir}/${f}`);
}

/** .dockerignore: which repository paths are left out of the build context (patterns as Docker reads them). */
const ignored = (() => {
  const patterns = readFileSync(`${root}.dockerignore`, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  assert.ok(!patterns.some((p) => p.startsWith('!')), 'exceptions are not replayed here');
  const res = patterns.map(
    (p) =>
      new RegExp(
        `^${p
          .replace(/^\/+|\/+$/g, '')
          .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
          .replace(/\*\*\//g, '\u0000')
          .replace(/\*/g, '[^/]*')
          // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is the placeholder put in for `**/` two lines up
          .replace(/\u0000/g, '(.*/)?')}(/.*)?$`,
      ),
  );
  return (path: string) => res.some((re) => re.test(path));
})();

interface Dockerfile {
  workdir: string;
  env: Record<string, string>;
  copies: { sources: string[]; dest: string }[];
  runs: string[];
  entrypoint: string[];
  cmd: string[];
  volumes: string[];
}

function readDockerfile(file: string): Dockerfile {
  const lines = readFileSync(`${root}${file}`, 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const d: Dockerfile = { workdir: '/', env: {}, copies: [], runs: [], entrypoint: [], cmd: [], volumes: [] };
  for (const line of lines) {
    const [, op, rest] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (op === 'WORKDIR') d.workdir = rest;
    if (op === 'ENV') for (const m of rest.matchAll(/(\w+)=("[^"]*"|\S+)/g)) d.env[m[1]] = m[2].replace(/^"|"$/g, '');
    if (op === 'COPY') {
      assert.ok(!rest.startsWith('--'), `${file}: COPY flags are not replayed`);
      const parts = rest.split(/\s+/);
      d.copies.push({ sources: parts.slice(0, -1), dest: parts.at(-1)! });
    }
    if (op === 'RUN') d.runs.push(rest);
    if (op === 'ENTRYPOINT') d.entrypoint = JSON.parse(rest);
    if (op === 'CMD' && rest.startsWith('[')) d.cmd = JSON.parse(rest);
    if (op === 'VOLUME') d.volumes.push(rest);
  }
  return d;
}

/** `${VAR:-default}`, `${VAR:?error}`, `${VAR}` as compose interpolates them, from `vars`. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (_, name: string, op: string | undefined, arg: string) => {
    const v = vars[name];
    if (v !== undefined && v !== '') return v;
    if (op === '?') throw new Error(`compose needs ${name}: ${arg}`);
    return op === '-' ? arg : '';
  });
}

/** Copies exactly the Dockerfile's COPY list into `dir` (its WORKDIR), skipping what .dockerignore leaves out of the context. */
function replayCopies(d: Dockerfile, dir: string): void {
  for (const { sources, dest } of d.copies) {
    const target = join(dir, dest);
    const intoDir = dest.endsWith('/') || sources.length > 1;
    for (const pattern of sources) {
      const matches = glob(pattern).filter((p) => !ignored(p));
      assert.ok(matches.length > 0, `COPY source ${pattern} matches nothing in the build context`);
      for (const src of matches) {
        const from = `${root}${src}`;
        const to = statSync(from).isDirectory() ? target : intoDir ? join(target, basename(src)) : target;
        mkdirSync(statSync(from).isDirectory() ? to : dirname(to), { recursive: true });
        cpSync(from, to, { recursive: true, filter: (f) => !ignored(relative(root, f)) });
      }
    }
  }
}

/** Runs the Dockerfile's `npm ci` steps in `dir` (the rest, e.g. `npm cache clean`, `chown`, would touch this machine). */
function replayInstall(d: Dockerfile, dir: string): void {
  const installs = d.runs.flatMap((r) => r.split('&&').map((s) => s.trim())).filter((c) => c.startsWith('npm ci'));
  assert.equal(installs.length, 1, 'one npm ci');
  const args = [...installs[0].split(/\s+/).slice(1), '--prefer-offline'];
  const res = spawnSync('npm', args, { cwd: dir, env: { ...process.env, ...d.env }, encoding: 'utf8', timeout: 600_000 });
  assert.equal(res.status, 0, `npm ${args.join(' ')} failed:\n${res.stdout}\n${res.stderr}`);
}

/** Maps absolute paths under the image's WORKDIR (or a volume) to the replay's folders. */
const inReplay = (value: string, d: Dockerfile, dir: string, volumes: Record<string, string> = {}) => {
  let v = value.startsWith(`${d.workdir}/`) ? join(dir, value.slice(d.workdir.length + 1)) : value;
  for (const [volume, path] of Object.entries(volumes)) if (v.startsWith(`${volume}/`)) v = join(path, v.slice(volume.length + 1));
  return v;
};

test('docker-compose.yml validates against the Compose Specification schema', () => {
  const schema = JSON.parse(readFileSync(`${root}docker/compose-spec/compose-spec.json`, 'utf8'));
  // It names draft 07 by an https URL Ajv does not list; Ajv's default dialect is draft 07 anyway.
  assert.match(schema.$schema, /draft-07/);
  delete schema.$schema;
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);
  assert.ok(validate(compose), `docker-compose.yml: ${ajv.errorsText(validate.errors, { separator: '\n' })}`);
  // The schema catches what it should: a misspelt key is refused.
  assert.equal(validate({ services: { server: { imgae: 'x' } } }), false);
});

test('compose: Redis with AOF on a volume, two server replicas on it behind nginx, a client writing to a named volume', () => {
  const { redis, server, lb, client } = compose.services;
  for (const [name, svc] of Object.entries<{ build?: { context: string; dockerfile: string } }>(compose.services)) {
    if (svc.build) assert.ok(existsSync(`${root}${svc.build.context}/${svc.build.dockerfile}`), `${name}: ${svc.build.dockerfile} exists`);
  }
  assert.match(redis.image, /^redis:/, 'the official redis image');
  assert.deepEqual(redis.command.slice(0, 3), ['redis-server', '--appendonly', 'yes']);
  assert.ok(
    redis.volumes.some((v: string) => v.endsWith(':/data') && compose.volumes[v.split(':')[0]] !== undefined),
    'Redis data on a named volume',
  );

  const env = server.environment;
  assert.equal(env.HOST, '0.0.0.0', 'the server must listen on all interfaces inside the container');
  assert.equal(env.REDIS_URL, 'redis://redis:6379');
  assert.equal(server.depends_on.redis.condition, 'service_healthy');
  assert.ok(server.deploy.replicas >= 2, 'at least two replicas');
  assert.equal(server.ports, undefined, 'replicas are reached through the load balancer only');
  for (const key of ['RS_ARENA_ADMIN_KEY', 'RS_ARENA_CLIENT_KEY']) assert.match(env[key], /:\?/, `${key} is required, not defaulted`);

  assert.match(lb.image, /^nginx:/, 'the official nginx image');
  const mount = lb.volumes.find((v: string) => v.includes('/etc/nginx/nginx.conf'));
  const conf = readFileSync(`${root}${mount.split(':')[0]}`, 'utf8');
  assert.match(conf, new RegExp(`server server:${env.PORT};`), 'nginx balances over the server service');
  assert.match(conf, /listen 8080;/);
  assert.ok(lb.ports.some((p: string) => p.endsWith(':8080')));

  // The attacker reaches the servers through the load balancer, with the client key.
  assert.equal(client.environment.RS_ARENA_ENDPOINT, 'http://lb:8080');
  assert.match(client.environment.RS_ARENA_KEY, /RS_ARENA_CLIENT_KEY/);
  assert.equal(client.command[0], 'attack');
  const results = client.volumes.find((v: string) => v.endsWith(':/results'));
  assert.ok(
    compose.volumes[results.split(':')[0]] !== undefined,
    'results on a named volume (created with the owner of the image folder), not a root-owned bind mount',
  );
});

test('compose: queue workers from the client image, on the compose Redis, attacking through the load balancer, without the admin key', () => {
  const { worker, client, redis } = compose.services;
  assert.deepEqual(worker.build, client.build, 'the client image');
  assert.equal(worker.image, client.image);
  assert.equal(worker.command[0], 'worker');
  const env = worker.environment;
  assert.equal(new URL(env.RS_ARENA_QUEUE).hostname, 'redis', 'the compose Redis');
  assert.ok(redis.healthcheck && worker.depends_on.redis.condition === 'service_healthy');
  assert.equal(env.RS_ARENA_ENDPOINT, client.environment.RS_ARENA_ENDPOINT, 'the load balancer, as the attacker');
  assert.match(env.RS_ARENA_CLIENT_KEY, /RS_ARENA_CLIENT_KEY/);
  assert.match(env.RS_ARENA_EVALUATOR_KEY, /RS_ARENA_EVALUATOR_KEY/);
  assert.ok(!Object.keys(env).some((k) => /ADMIN/.test(k)), 'no admin key: workers create nothing');
  assert.ok(Number(interpolate(String(worker.deploy.replicas), {})) >= 2, 'several workers by default');
  assert.deepEqual(worker.profiles, ['queue'], 'started on demand');
});

for (const file of glob('docker/*.Dockerfile')) {
  test(`${file}: a supported Node LTS base, every COPY source in the build context, an offline-safe install`, () => {
    const text = readFileSync(`${root}${file}`, 'utf8');
    const [, major] = /^FROM node:(\d+)/m.exec(text) ?? [];
    // Node 20 reached end of life in April 2026; 22 (until April 2027), 24 and 26 are LTS lines.
    assert.ok(['22', '24', '26'].includes(major), `${file}: node:${major} is not a supported LTS line`);
    const d = readDockerfile(file);
    for (const { sources } of d.copies)
      for (const src of sources)
        assert.ok(
          glob(src).some((p) => !ignored(p)),
          `${file}: COPY ${src} is not in the build context`,
        );
    assert.match(text, /ONNXRUNTIME_NODE_INSTALL=skip/, 'offline-safe onnxruntime install (also denied in allowScripts)');
  });
}

test('.dockerignore keeps the context small: no node_modules, results, .git, ImageNet models', () => {
  for (const p of ['node_modules', 'server/node_modules/x', '.git', 'results/paper-fmnist/data.jsonl', 'models/imagenet/x.onnx', 'out/client'])
    assert.ok(ignored(p), p);
  for (const p of ['server/src/main.ts', 'shared/native/noise.wasm', 'models/fmnist-cnn.onnx', 'package-lock.json']) assert.ok(!ignored(p), p);
});

test('the server image and the client image, replayed: the server starts on Redis and predicts; the client attacks it; a worker from the client image runs queued tasks', {
  ...needsRedis,
  timeout: 900_000,
}, async () => {
  const redis = await startRedis();
  const base = mkdtempSync(join(tmpdir(), 'rs-arena-docker-'));
  const vars = {
    RS_ARENA_ADMIN_KEY: 'replay-admin-key-0123456789',
    RS_ARENA_CLIENT_KEY: 'replay-client-key-0123456789',
    RS_ARENA_EVALUATOR_KEY: 'replay-evaluator-key-0123456',
    RS_ARENA_CLIENT_BUDGET: '500',
  };
  let server: ReturnType<typeof spawn> | undefined;
  try {
    // The server image.
    const sd = readDockerfile('docker/server.Dockerfile');
    const sdir = join(base, 'server');
    replayCopies(sd, sdir);
    replayInstall(sd, sdir);
    const port = await freePort();
    const env: Record<string, string> = { PATH: process.env.PATH!, HOME: sdir };
    for (const [k, v] of Object.entries(sd.env)) env[k] = inReplay(v, sd, sdir);
    for (const [k, v] of Object.entries<string>(compose.services.server.environment)) env[k] = interpolate(v, vars);
    // Test rules: loopback only, a free port, the test Redis in place of the compose service.
    Object.assign(env, { HOST: '127.0.0.1', PORT: String(port), REDIS_URL: redis.url, LOG_LEVEL: 'warn' });
    const [cmd, ...args] = [...sd.entrypoint, ...sd.cmd];
    assert.equal(cmd, 'node');
    server = spawn(process.execPath, args, { cwd: sdir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout!.on('data', (d) => (output += d));
    server.stderr!.on('data', (d) => (output += d));
    const url = `http://127.0.0.1:${port}`;
    const end = Date.now() + 120_000;
    while (
      !(await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      assert.ok(Date.now() < end && server.exitCode === null, `the replayed server image did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const predict = await fetch(`${url}/v1/deployments/fmnist-cnn/predict`, {
      method: 'POST',
      headers: { authorization: `Bearer ${vars.RS_ARENA_CLIENT_KEY}`, 'content-type': 'application/octet-stream' },
      body: float32ToBytes(images(3).values),
    });
    assert.equal(predict.status, 200, await predict.clone().text());
    assert.deepEqual(((await predict.json()) as { labels: number[] }).labels, images(3).labels);

    // The client image, attacking the replayed server (a tiny campaign: one image, 30 queries per attack).
    const cd = readDockerfile('docker/client.Dockerfile');
    const cdir = join(base, 'client');
    replayCopies(cd, cdir);
    replayInstall(cd, cdir);
    const results = join(base, 'results');
    mkdirSync(results);
    const cvars = { ...vars, RS_ARENA_TARGET: 'fmnist-cnn', RS_ARENA_BUDGET: '30', RS_ARENA_IMAGES: '1' };
    const cenv: Record<string, string> = { PATH: process.env.PATH!, HOME: cdir };
    for (const [k, v] of Object.entries(cd.env)) cenv[k] = inReplay(v, cd, cdir);
    for (const [k, v] of Object.entries<string>(compose.services.client.environment)) cenv[k] = interpolate(v, cvars);
    cenv.RS_ARENA_ENDPOINT = url; // the load balancer's place
    const volumes = Object.fromEntries(cd.volumes.map((v) => [v, results]));
    const command = (compose.services.client.command as string[]).map((a) => inReplay(interpolate(a, cvars), cd, cdir, volumes));
    const [ccmd, ...cargs] = [...cd.entrypoint, ...command];
    assert.equal(ccmd, 'node');
    const attack = spawn(
      process.execPath,
      cargs.map((a) => inReplay(a, cd, cdir)),
      { cwd: cdir, env: cenv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let aout = '';
    attack.stdout!.on('data', (d) => (aout += d));
    attack.stderr!.on('data', (d) => (aout += d));
    const [code] = await once(attack, 'exit');
    assert.equal(code, 0, aout);
    const records = readFileSync(join(results, 'results.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(records.length, 3, 'one record per attack');
    const usage = (await (await fetch(`${url}/v1/usage`, { headers: { authorization: `Bearer ${vars.RS_ARENA_CLIENT_KEY}` } })).json()) as {
      deployments: { deployment: string; queries: number }[];
    };
    const spent = usage.deployments.find((d) => d.deployment === 'fmnist-cnn')!.queries;
    assert.ok(spent > 3 && spent <= 3 + 3 * 31, `server counted ${spent} queries`);

    // The worker service: the client image's entrypoint with the compose command and environment,
    // the test Redis and the replayed server in place of the compose services; a campaign of 2
    // tasks submitted here comes back from it.
    const wenv: Record<string, string> = { PATH: process.env.PATH!, HOME: cdir };
    for (const [k, v] of Object.entries(cd.env)) wenv[k] = inReplay(v, cd, cdir);
    for (const [k, v] of Object.entries<string>(compose.services.worker.environment)) wenv[k] = interpolate(v, vars);
    Object.assign(wenv, { RS_ARENA_QUEUE: redis.url, RS_ARENA_ENDPOINT: url });
    const wargs = [...cd.entrypoint, ...(compose.services.worker.command as string[]).map((a) => interpolate(a, vars))];
    const worker = spawn(
      process.execPath,
      wargs.slice(1).map((a) => inReplay(a, cd, cdir)),
      { cwd: cdir, env: wenv, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let wout = '';
    worker.stdout!.on('data', (d) => (wout += d));
    worker.stderr!.on('data', (d) => (wout += d));
    try {
      const preset = parsePreset(
        {
          name: 'replay',
          description: 'replay',
          distortion: { settings: [{ model: 'fmnist-cnn', sigma: 0 }], ns: [1], Pas: [0.5], attacks: ['rays'], budget: 30, images: 2, assessSamples: 100 },
        },
        'replay',
      );
      const qdir = join(base, 'queued');
      const keys = { admin: vars.RS_ARENA_ADMIN_KEY, evaluator: vars.RS_ARENA_EVALUATOR_KEY, client: vars.RS_ARENA_CLIENT_KEY };
      await runPreset(preset, {
        dir: qdir,
        endpoint: url,
        keys,
        concurrency: 2,
        imagenetImages: base,
        command: 'replay',
        queue: { url: redis.url, campaign: 'replay' },
      });
      const queued = readFileSync(join(qdir, 'distortion.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(queued.length, 2, wout);
      assert.match(wout, /worker ready/);
      for (const r of queued) assert.ok(r.queries.total <= 30 && r.recovery.attempt === 1);
    } finally {
      if (worker.exitCode === null) {
        worker.kill('SIGTERM');
        await once(worker, 'exit');
      }
    }
  } finally {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await once(server, 'exit');
    }
    await redis.destroy();
    rmSync(base, { recursive: true, force: true });
  }
});
