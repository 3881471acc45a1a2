// Renders the Kubernetes manifests of deploy/k8s/ for `kubectl apply -f -`, from the environment
// the compose file uses (docs/scale-out.md): `${VAR:-default}`, `${VAR:?message}` and `${VAR}` are
// interpolated as compose does. Keys never go into the manifests (they come from the Secret
// rs-arena-keys). With RS_ARENA_REMOTE_URL set, the base model of one more deployment runs on that
// Open Inference Protocol engine (Triton, KServe; docs/operator.md): a ConfigMap holds the server
// config (the default deployments and that one), mounted into the server pods as RS_ARENA_CONFIG.
//   npm run k8s:render > arena.yaml
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';

export const K8S_DIR = fileURLToPath(new URL('../deploy/k8s/', import.meta.url));
const DEFAULT_CONFIG = fileURLToPath(new URL('../server/config/default.json', import.meta.url));

/** The files, in apply order. */
export const MANIFESTS = ['redis.yaml', 'server.yaml', 'worker.yaml', 'worker-autoscaling.yaml'];

/** `${VAR:-default}`, `${VAR:?error}`, `${VAR}` as compose interpolates them, from `vars`. */
export function interpolate(text: string, vars: Record<string, string | undefined>): string {
  return text.replace(/\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (_, name: string, op: string | undefined, arg: string) => {
    const v = vars[name];
    if (v !== undefined && v !== '') return v;
    if (op === '?') throw new Error(`the manifests need ${name}: ${arg}`);
    return op === '-' ? arg : '';
  });
}

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };

/** The manifests as objects, rendered from `vars`. */
export function renderManifests(vars: Record<string, string | undefined>): Manifest[] {
  const out: Manifest[] = [];
  for (const file of MANIFESTS) {
    for (const doc of parseAllDocuments(interpolate(readFileSync(K8S_DIR + file, 'utf8'), vars))) {
      if (doc.errors.length) throw new Error(`deploy/k8s/${file}: ${doc.errors[0].message}`);
      const value = doc.toJSON() as Manifest | null;
      if (value) out.push(value);
    }
  }
  if (vars.RS_ARENA_REMOTE_URL) addRemoteModel(out, vars);
  return out;
}

export const renderYaml = (vars: Record<string, string | undefined>) =>
  renderManifests(vars)
    .map((m) => stringify(m, { version: '1.1' }))
    .join('---\n');

/** A deployment whose base model runs on the engine at RS_ARENA_REMOTE_URL, beside the default ones. */
function addRemoteModel(out: Manifest[], vars: Record<string, string | undefined>): void {
  const config = JSON.parse(readFileSync(DEFAULT_CONFIG, 'utf8')) as { deployments: unknown[] };
  const base = vars.RS_ARENA_REMOTE_BASE || 'fmnist-cnn';
  config.deployments.push({
    id: vars.RS_ARENA_REMOTE_DEPLOYMENT || `${base}-remote-rs025`,
    model: base,
    sigma: 0.25,
    n: 100,
    batchSize: 200,
    description: `${base} on the engine at ${vars.RS_ARENA_REMOTE_URL}, under randomized smoothing, sigma 0.25, n 100`,
    remote: { url: vars.RS_ARENA_REMOTE_URL, model: vars.RS_ARENA_REMOTE_MODEL || base, maxBatch: 50, concurrency: 4 },
  });
  out.unshift({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'rs-arena-config', labels: { 'app.kubernetes.io/name': 'rs-arena' } } as Manifest['metadata'],
    data: { 'config.json': JSON.stringify(config, null, 2) },
  });
  const server = out.find((m) => m.kind === 'Deployment' && m.metadata.name === 'server') as unknown as {
    spec: { template: { spec: { containers: { env: object[]; volumeMounts?: object[] }[]; volumes?: object[] } } };
  };
  const pod = server.spec.template.spec;
  pod.containers[0].env.push({ name: 'RS_ARENA_CONFIG', value: '/etc/rs-arena/config.json' });
  (pod.containers[0].volumeMounts ??= []).push({ name: 'config', mountPath: '/etc/rs-arena', readOnly: true });
  (pod.volumes ??= []).push({ name: 'config', configMap: { name: 'rs-arena-config' } });
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) process.stdout.write(renderYaml(process.env));
