// The Kubernetes manifests (deploy/k8s/, rendered by scripts/render-k8s.ts from the environment the
// compose file uses) checked without a cluster: every object against the Kubernetes OpenAPI schemas
// (kubernetes-models' validators, generated from the Kubernetes OpenAPI spec; KEDA's CRD schema for
// the ScaledObject), every key against the API's types (a misspelt key is refused, which the JSON
// schemas allow), and the wiring: the server gets the compose file's environment with the keys from
// a Secret, probes on /readyz and /healthz, Services that select their pods, Redis with its data
// on a persistent volume, workers reaching both and scaled on BullMQ's wait list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { QUEUE_NAME } from '../../client/src/queue/campaign.js';
import { parseConfig } from '../../server/src/config.js';
import { interpolate, renderManifests, renderYaml } from '../../scripts/render-k8s.js';
import { ROOT } from '../helpers/root.js';

const root = ROOT;
const compose = parseYaml(readFileSync(`${root}docker-compose.yml`, 'utf8'));
/** The environment docker.test.ts runs the compose file with. */
const vars = {
  RS_ARENA_ADMIN_KEY: 'replay-admin-key-0123456789',
  RS_ARENA_CLIENT_KEY: 'replay-client-key-0123456789',
  RS_ARENA_EVALUATOR_KEY: 'replay-evaluator-key-01234',
  RS_ARENA_CLIENT_BUDGET: '500',
  LOG_LEVEL: 'warn',
};
const remote = { ...vars, RS_ARENA_REMOTE_URL: 'http://triton.models:8000', RS_ARENA_REMOTE_MODEL: 'fmnist' };

const MODELS: Record<string, { new (data: never): { validate(): void } }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};
/** The same kinds' TypeScript interfaces, for the key check. */
const TYPES: Record<string, [string, string]> = {
  'apps/v1/Deployment': ['kubernetes-models/apps/v1/Deployment', 'IDeployment'],
  'apps/v1/StatefulSet': ['kubernetes-models/apps/v1/StatefulSet', 'IStatefulSet'],
  'v1/Service': ['kubernetes-models/v1/Service', 'IService'],
  'v1/ConfigMap': ['kubernetes-models/v1/ConfigMap', 'IConfigMap'],
  'keda.sh/v1alpha1/ScaledObject': ['@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject', 'IScaledObject'],
};

// Manifests are untyped JSON here: their shape is what the schemas above check.
// biome-ignore lint/suspicious/noExplicitAny: the manifests are checked by the schemas above, not typed here
type Any = any;
const find = (ms: Any[], kind: string, name: string) => {
  const m = ms.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(m, `a ${kind} named ${name}`);
  return m;
};
const container = (m: Any) => m.spec.template.spec.containers[0];
const envOf = (c: Any) => Object.fromEntries(c.env.map((e: Any) => [e.name, e.value ?? e.valueFrom]));

test('every manifest validates against the Kubernetes OpenAPI schemas, with and without a remote base model', () => {
  for (const ms of [renderManifests(vars), renderManifests(remote)]) {
    for (const m of ms) {
      const Model = MODELS[`${m.apiVersion}/${m.kind}`];
      assert.ok(Model, `${m.apiVersion} ${m.kind} has a schema here`);
      assert.doesNotThrow(() => new Model(m as never).validate(), `${m.kind} ${m.metadata.name}`);
    }
  }
  // The schemas catch what they should: a port that is not a number, a probe without a handler's fields.
  const bad = structuredClone(find(renderManifests(vars), 'Deployment', 'server'));
  container(bad).ports[0].containerPort = 'http';
  assert.throws(() => new Deployment(bad).validate(), /containerPort must be integer/);
  // The rendered text (what kubectl reads, YAML 1.1: "yes" stays a string) is the same objects.
  const text = renderYaml(remote);
  assert.deepEqual(
    parseAllDocuments(text, { version: '1.1' }).map((d) => d.toJSON()),
    renderManifests(remote),
  );
  assert.match(text, /- "yes"/);
});

test('every key of every manifest is one the Kubernetes API has (type-checked; a misspelt key is refused)', () => {
  // Inside the repository, so that the types resolve from its node_modules.
  mkdirSync(join(root, 'out'), { recursive: true });
  const dir = mkdtempSync(join(root, 'out', 'k8s-check-'));
  try {
    const ms = renderManifests(remote);
    const used = [...new Set(ms.map((m) => `${m.apiVersion}/${m.kind}`))];
    const lines = used.map((k) => `import type { ${TYPES[k][1]} } from '${TYPES[k][0]}';`);
    ms.forEach((m, i) => lines.push(`export const m${i} = ${JSON.stringify(m)} satisfies ${TYPES[`${m.apiVersion}/${m.kind}`][1]};`));
    // The check itself must fail on a misspelt key: were it not caught, tsc would report the unused directive.
    const typo = structuredClone(find(ms, 'Deployment', 'server'));
    container(typo).readinesProbe = container(typo).readinessProbe;
    lines.push(`// @ts-expect-error readinesProbe is not a key of a container`, `export const typo = ${JSON.stringify(typo)} satisfies IDeployment;`);
    writeFileSync(join(dir, 'manifests.ts'), lines.join('\n') + '\n');
    const tsc = spawnSync(
      process.execPath,
      [
        `${root}node_modules/typescript/bin/tsc`,
        '--noEmit',
        '--strict',
        '--target',
        'es2022',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--skipLibCheck',
        // The file alone, not the repository's tsconfig.json found in the working folder (TypeScript 7
        // refuses the ambiguity unless told).
        '--ignoreConfig',
        join(dir, 'manifests.ts'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the server: the compose environment (keys from the Secret, never in the manifests), probes on /readyz and /healthz, a Service', () => {
  const ms = renderManifests(vars);
  const server = find(ms, 'Deployment', 'server');
  const c = container(server);
  const env = envOf(c);
  const composeEnv = compose.services.server.environment as Record<string, string>;
  assert.deepEqual(Object.keys(env).sort(), Object.keys(composeEnv).sort(), 'the same variables as the compose file');
  for (const [name, value] of Object.entries(composeEnv)) {
    if (/_KEY$/.test(name)) assert.deepEqual(env[name].secretKeyRef.name, 'rs-arena-keys', `${name} from the Secret`);
    else assert.equal(env[name], interpolate(value, vars), name);
  }
  const text = renderYaml(vars);
  for (const [name, value] of Object.entries(vars)) if (/_KEY$/.test(name)) assert.ok(!text.includes(value), `${name}'s value is not in the manifests`);
  assert.ok(server.spec.replicas >= 2, 'replicas share Redis');
  const port = c.ports.find((p: Any) => p.containerPort === Number(env.PORT));
  assert.ok(port, 'the container port is the PORT the server listens on');
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) assert.equal(probe.httpGet.port, port.name);
  const svc = find(ms, 'Service', 'server');
  assert.deepEqual(svc.spec.selector, server.spec.template.metadata.labels);
  assert.equal(svc.spec.ports[0].targetPort, port.name);
  assert.equal(new URL(env.REDIS_URL).hostname, 'redis');
});

test('Redis: append-only file on a persistent volume, behind the Service the server and workers name', () => {
  const ms = renderManifests(vars);
  const redis = find(ms, 'StatefulSet', 'redis');
  const c = container(redis);
  assert.deepEqual(c.args.slice(0, 3), compose.services.redis.command.slice(0, 3), "the compose file's redis-server --appendonly yes");
  const claim = redis.spec.volumeClaimTemplates[0];
  assert.ok(
    c.volumeMounts.some((v: Any) => v.name === claim.metadata.name && v.mountPath === '/data'),
    'the claim is mounted at /data',
  );
  assert.ok(claim.spec.resources.requests.storage);
  const svc = find(ms, 'Service', 'redis');
  assert.deepEqual(svc.spec.selector, redis.spec.template.metadata.labels);
  assert.equal(svc.spec.ports[0].port, 6379);
});

test('workers: the client image running `rs-arena worker`, no admin key, scaled by KEDA on the BullMQ wait and active lists', () => {
  const ms = renderManifests(vars);
  const worker = find(ms, 'Deployment', 'worker');
  const c = container(worker);
  assert.match(c.image, new RegExp(`^${compose.services.client.image}(:|$)`), "the compose file's client image");
  assert.equal(c.args[0], 'worker');
  const queue = c.args[c.args.indexOf('--queue') + 1];
  assert.equal(new URL(queue).hostname, find(ms, 'Service', 'redis').metadata.name);
  const env = envOf(c);
  const endpoint = new URL(env.RS_ARENA_ENDPOINT);
  const server = find(ms, 'Service', 'server');
  assert.equal(endpoint.hostname, server.metadata.name);
  assert.equal(Number(endpoint.port), server.spec.ports[0].port);
  assert.deepEqual(Object.keys(env).sort(), ['RS_ARENA_CLIENT_KEY', 'RS_ARENA_ENDPOINT', 'RS_ARENA_EVALUATOR_KEY'], 'no admin key');
  const scaled = find(ms, 'ScaledObject', 'worker');
  assert.equal(scaled.spec.scaleTargetRef.name, worker.metadata.name);
  assert.deepEqual(
    scaled.spec.triggers.map((t: Any) => t.metadata.listName),
    [`bull:${QUEUE_NAME}:wait`, `bull:${QUEUE_NAME}:active`],
  );
  for (const t of scaled.spec.triggers) assert.equal(t.metadata.address, `${find(ms, 'Service', 'redis').metadata.name}:6379`);
  // The active list's share per replica is a worker's concurrency: a busy worker is never scaled away.
  assert.equal(scaled.spec.triggers[1].metadata.listLength, c.args[c.args.indexOf('--concurrency') + 1]);
});

test('a remote base model: the server config in a ConfigMap, valid for the server, mounted as RS_ARENA_CONFIG', () => {
  const ms = renderManifests(remote);
  const cm = find(ms, 'ConfigMap', 'rs-arena-config');
  const config = parseConfig(JSON.parse(cm.data['config.json']), 'the ConfigMap');
  const d = config.deployments.find((x) => x.remote);
  assert.equal(d?.remote?.url, remote.RS_ARENA_REMOTE_URL);
  assert.equal(d?.remote?.model, 'fmnist');
  assert.ok(config.deployments.length > 1, 'beside the default deployments');
  const server = find(ms, 'Deployment', 'server');
  const c = container(server);
  const mount = c.volumeMounts.find((v: Any) => v.name === 'config');
  assert.equal(envOf(c).RS_ARENA_CONFIG, `${mount.mountPath}/config.json`);
  assert.equal(server.spec.template.spec.volumes.find((v: Any) => v.name === 'config').configMap.name, cm.metadata.name);
  assert.equal(find(renderManifests(vars), 'Deployment', 'server').spec.template.spec.volumes, undefined, 'no ConfigMap without a remote model');
});
