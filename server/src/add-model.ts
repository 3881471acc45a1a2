// npm run models:add -- FILE.onnx --id ID [options]: makes a model folder (<models dir>/<id>/) from a
// bare ONNX file: the file copied in, the labels file beside it, and a config.json with what the
// file cannot say (range, normalization), its sha256, and the deployments to serve. Prints what it
// read from the model (input and output names, shape, classes). Nothing outside the folder changes.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_MODELS_DIR, loadCatalog, sha256File } from '@rs-arena/shared/catalog';
import { MODEL_CONFIG_FILE, ModelFolderConfig } from '@rs-arena/shared/model-folder';
import { closest } from '@rs-arena/shared/suggest';
import { parseOrThrow } from '@rs-arena/shared/zod-error';
import { loadModelFolder } from './model-folder.js';

const HELP = `npm run models:add -- FILE.onnx --id ID [options]

Makes the model folder <models dir>/ID/ (models dir: --models-dir, else $RS_ARENA_MODELS_DIR, else
models/) from an ONNX classifier with one float32 input [batch, C, H, W]. The server reads the
input and output names, the shape and the class count from the file.

  --id ID              the model's id (lowercase letters, digits, . _ -)
  --labels FILE        class names, one per line, or a TSV whose last column is the name
  --range LO,HI        the value range of a valid input, where RS noise is added (default 0,1)
  --mean A,B,C --std A,B,C   per-channel normalization applied after the noise (omit when the
                       graph normalizes itself)
  --dataset NAME       what the model classifies (default custom; "imagenet": images cropped)
  --deploy ID:K=V,...  a deployment to serve, repeatable: sigma, n, rule, seed, maxBatch,
                       batchSize, disclose (e.g. squeezenet-rs:sigma=0.25,n=10)
  --models-dir DIR     where the folder goes
  --force              replace an existing folder's files
`;

const DEPLOY_KEYS = ['sigma', 'n', 'rule', 'alpha', 'seed', 'maxBatch', 'batchSize', 'disclose', 'description'];

function fail(message: string, code = 2): never {
  process.stderr.write(`models:add: ${message}${code === 2 ? ' (npm run models:add -- --help)' : ''}\n`);
  process.exit(code);
}

const numbers = (flag: string, text: string) => {
  const v = text.split(',').map(Number);
  if (v.some((x) => !Number.isFinite(x))) fail(`--${flag} takes numbers separated by commas, got "${text}"`);
  return v;
};

function deployment(text: string): Record<string, unknown> {
  const [id, rest = ''] = text.split(':');
  const spec: Record<string, unknown> = { id };
  for (const pair of rest.split(',').filter(Boolean)) {
    const [k, v] = pair.split('=');
    if (!DEPLOY_KEYS.includes(k))
      fail(`--deploy ${text}: unknown setting "${k}"${closest(k, DEPLOY_KEYS) ? ` (did you mean "${closest(k, DEPLOY_KEYS)}"?)` : ''}`);
    spec[k] = v === 'true' ? true : v === 'false' ? false : k === 'rule' || k === 'description' ? v : Number(v);
  }
  return spec;
}

async function main(): Promise<void> {
  const options = {
    id: { type: 'string' as const },
    labels: { type: 'string' as const },
    range: { type: 'string' as const },
    mean: { type: 'string' as const },
    std: { type: 'string' as const },
    dataset: { type: 'string' as const },
    deploy: { type: 'string' as const, multiple: true, default: [] as string[] },
    'models-dir': { type: 'string' as const },
    force: { type: 'boolean' as const, default: false },
    help: { type: 'boolean' as const, short: 'h', default: false },
  } satisfies NonNullable<ParseArgsConfig['options']>;
  let parsed;
  try {
    parsed = parseArgs({ args: process.argv.slice(2), options, allowPositionals: true, strict: true });
  } catch (err) {
    const flag = /'(--?[^' ]+)/.exec((err as Error).message)?.[1];
    const near = flag ? closest(flag.replace(/^-+/, ''), Object.keys(options)) : undefined;
    fail(`${(err as Error).message.split('. ')[0]}${near ? ` (did you mean --${near}?)` : ''}`);
  }
  const { values: a, positionals } = parsed;
  if (a.help) {
    process.stdout.write(HELP);
    return;
  }
  if (positionals.length !== 1) fail('one ONNX file is required');
  if (!a.id) fail('--id is required');
  const source = resolve(positionals[0]);
  if (!existsSync(source)) fail(`no such file: ${source}`, 1);
  if ((a.mean === undefined) !== (a.std === undefined)) fail('--mean and --std go together');
  const dir = resolve(a['models-dir'] ?? process.env.RS_ARENA_MODELS_DIR ?? DEFAULT_MODELS_DIR);
  const folder = join(dir, a.id);
  if (existsSync(folder) && !a.force) fail(`${folder} exists; --force replaces its files`, 1);
  const config = parseOrThrow(
    ModelFolderConfig,
    {
      ...(a.dataset ? { dataset: a.dataset } : {}),
      ...(a.labels ? { labels: basename(a.labels) } : {}),
      ...(a.range ? { range: numbers('range', a.range) } : {}),
      ...(a.mean ? { normalization: { mean: numbers('mean', a.mean), std: numbers('std', a.std!) } } : {}),
      sha256: sha256File(source),
      deployments: a.deploy.map(deployment),
    },
    'models:add',
  );
  mkdirSync(folder, { recursive: true });
  copyFileSync(source, join(folder, 'model.onnx'));
  if (a.labels) copyFileSync(resolve(a.labels), join(folder, basename(a.labels)));
  writeFileSync(join(folder, MODEL_CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
  // Read back exactly as the server will: a folder the server would refuse is reported now.
  const m = await loadModelFolder(loadCatalog(dir), a.id);
  const { input, output } = m.entry;
  process.stdout.write(
    `${folder}: input "${input.name}" [${input.shape.join(', ')}] in [${input.range.join(', ')}], output "${output.name}" ${output.classes} classes, sha256 ${m.sha256}\n` +
      m.deployments.map((d) => `  deployment ${d.id}: sigma ${d.sigma ?? 0}, n ${d.n ?? 1}\n`).join(''),
  );
}

main().catch((err: Error) => fail(err.message, 1));
