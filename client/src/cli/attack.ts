// rs-arena attack: one or more attacks against one deployment, over HTTP only, as a real attacker.
import { parseArgs } from 'node:util';
import { ATTACK_NAMES, type AttackName } from '../attacks/index.js';
import { HSJA_DEFAULTS } from '../attacks/hsja.js';
import { RAYS_DEFAULTS } from '../attacks/rays.js';
import { SURFREE_DEFAULTS } from '../attacks/surfree.js';
import { runCampaign } from '../campaign.js';
import { HttpError } from '../oracle-http.js';
import { TARGET_FLAGS, TARGET_HELP, TargetUsageError, connectTarget, type Target } from '../target.js';
import { InputError, loadInputs } from '../inputs.js';
import { Progress } from '../progress.js';
import type { AttackRecord } from '../record.js';
import { summarize, summaryTable } from '../summary.js';

const HELP = `rs-arena attack --deployment ID [options]

  --endpoint URL       server base URL (env RS_ARENA_ENDPOINT; default http://127.0.0.1:8080)
  --key KEY            API key (env RS_ARENA_KEY)
  --deployment ID      deployment to attack (v2: the model name)
${TARGET_HELP}  --attack NAMES       hsja, surfree, rays, or a comma-separated list (default hsja)
  --budget N           queries per image, every query counted (default 2000)
  --images SOURCE      "sample" (the shipped test images, default), a folder of PNG/JPEG
                       images, or a raw float32 file (.f32/.bin)
  --labels FILE        true labels for a folder or raw file (JSON array/object, or one per line);
                       without them the endpoint's answer on each clean image is used (1 query)
  --count N            images to attack (default 20)      --offset N   first image (default 0)
  --concurrency N      images attacked at once (default 4)
  --seed N             seed of the attacks' randomness (default 0)
  --option K=V         attack option, repeatable (e.g. gamma=10, deltaFactor=0.01,
                       constraint=linf, thetaMax=30, tolerance=0.001)
  --out FILE           JSONL results, appended; a rerun resumes (default results.jsonl)
  --save-dir DIR       adversarials as .f32 + .png (default: <out>-adv/)   --no-save
  --json               print the summary as JSON instead of a table
`;

const DEFAULTS: Record<AttackName, object> = { hsja: HSJA_DEFAULTS, surfree: SURFREE_DEFAULTS, rays: RAYS_DEFAULTS };

export async function attackCommand(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        endpoint: { type: 'string', default: process.env.RS_ARENA_ENDPOINT ?? 'http://127.0.0.1:8080' },
        key: { type: 'string', default: process.env.RS_ARENA_KEY },
        deployment: { type: 'string' },
        attack: { type: 'string', default: 'hsja' },
        budget: { type: 'string', default: '2000' },
        images: { type: 'string', default: 'sample' },
        labels: { type: 'string' },
        count: { type: 'string', default: '20' },
        offset: { type: 'string', default: '0' },
        concurrency: { type: 'string', default: '4' },
        seed: { type: 'string', default: '0' },
        option: { type: 'string', multiple: true, default: [] },
        out: { type: 'string', default: 'results.jsonl' },
        'save-dir': { type: 'string' },
        'no-save': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        ...TARGET_FLAGS,
      },
      strict: true,
    }).values;
  } catch (err) {
    return usage((err as Error).message);
  }
  if (args.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (!args.deployment) return usage('--deployment is required');
  const attacks = args.attack.split(',').map((a) => a.trim());
  const unknown = attacks.filter((a) => !ATTACK_NAMES.includes(a as AttackName));
  if (unknown.length) return usage(`unknown attack ${unknown.join(', ')}; choose from ${ATTACK_NAMES.join(', ')}`);
  const ints: Record<string, number> = {};
  for (const name of ['budget', 'count', 'offset', 'concurrency', 'seed'] as const) {
    const v = Number(args[name]);
    if (!Number.isInteger(v) || v < 0 || (name === 'concurrency' && v < 1)) return usage(`--${name} must be a ${name === 'concurrency' ? 'positive' : 'non-negative'} integer, got "${args[name]}"`);
    ints[name] = v;
  }
  let options: Record<string, unknown>;
  try {
    options = parseOptions(args.option, attacks as AttackName[]);
  } catch (err) {
    return usage((err as Error).message);
  }

  let target: Target;
  try {
    target = await connectTarget({ ...args, deployment: args.deployment, connections: ints.concurrency });
  } catch (err) {
    if (err instanceof TargetUsageError) return usage(err.message);
    return fail(err instanceof HttpError ? err.message : `cannot reach ${args.endpoint}: ${(err as Error).message}`);
  }
  const { oracle } = target;
  try {
    const images = await loadInputs(
      { source: args.images, count: ints.count, offset: ints.offset, labels: args.labels },
      { shape: oracle.inputShape, range: oracle.range, dataset: target.dataset },
    );
    process.stderr.write(`attacking ${target.banner} at ${args.endpoint}: ${images.length} images, ${ints.budget} queries each\n`);
    const records: AttackRecord[] = [];
    for (const attack of attacks as AttackName[]) {
      const progress = new Progress(attack, images.length, ints.budget);
      records.push(
        ...(await runCampaign(
          {
            oracle,
            endpoint: args.endpoint,
            deployment: args.deployment,
            attack,
            attackOptions: pick(options, DEFAULTS[attack]),
            budget: ints.budget,
            seed: ints.seed,
            images,
            concurrency: ints.concurrency,
            out: args.out,
            saveDir: args['no-save'] ? null : args['save-dir'],
            labelSource: target.labelSource,
          },
          progress.onEvent,
        )),
      );
      progress.finish();
    }
    const rows = summarize(records);
    process.stdout.write(args.json ? JSON.stringify(rows, null, 2) + '\n' : summaryTable(rows) + '\n');
    process.stderr.write(`results: ${args.out}\n`);
    return 0;
  } catch (err) {
    if (err instanceof InputError || err instanceof HttpError) return fail(err.message);
    throw err;
  } finally {
    await oracle.close();
  }
}

/** --option k=v pairs, typed by the attacks' defaults; a name no chosen attack knows is an error. */
export function parseOptions(pairs: string[], attacks: AttackName[]): Record<string, unknown> {
  const known = new Map<string, unknown>();
  for (const a of attacks) for (const [k, v] of Object.entries(DEFAULTS[a])) known.set(k, v);
  known.set('deltaFactor', 0); // HSJA's optional replacement of the official δ
  known.set('epsilon', 0); // RayS' optional early stop
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new Error(`--option expects KEY=VALUE, got "${pair}"`);
    const k = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    if (!known.has(k)) throw new Error(`--option ${k}: not an option of ${attacks.join('/')}; known: ${[...known.keys()].join(', ')}`);
    const like = known.get(k);
    if (typeof like === 'number') {
      const v = Number(raw);
      if (!Number.isFinite(v)) throw new Error(`--option ${k} must be a number, got "${raw}"`);
      out[k] = v;
    } else out[k] = raw;
  }
  return out;
}

function pick(options: Record<string, unknown>, defaults: object): Record<string, unknown> {
  const keys = new Set([...Object.keys(defaults), 'deltaFactor', 'epsilon']);
  return Object.fromEntries(Object.entries(options).filter(([k]) => keys.has(k)));
}

function usage(message: string): number {
  process.stderr.write(`rs-arena attack: ${message}\n\n${HELP}`);
  return 2;
}

function fail(message: string): number {
  process.stderr.write(`rs-arena attack: ${message}\n`);
  return 1;
}
