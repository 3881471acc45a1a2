// rs-arena attack: one or more attacks against one deployment, over HTTP only, as a real attacker.
import { readFileSync } from 'node:fs';
import { Adaptive, isPlain } from '../adaptive.js';
import { UsageError, integerFlags, parseFlags, unknownName, usageExit } from './args.js';
import { ATTACK_NAMES, type AttackName, isAttackName } from '../attacks/index.js';
import { OptionError, optionsHelp, parseOptions } from '../attacks/options.js';
import { runCampaign } from '../campaign.js';
import { encodingLabel } from '../encoding.js';
import { HttpError } from '../oracle-http.js';
import { ProtocolError } from '../protocols/index.js';
import { ResponseError } from '../response.js';
import { TARGET_FLAGS, TARGET_HELP, TargetUsageError, connectTarget, type Target } from '../target.js';
import { InputError, loadInputs } from '../inputs.js';
import { Progress } from '../progress.js';
import type { AttackRecord } from '../record.js';
import { ResultsFileError } from '../results-file.js';
import { summarize, summaryTable } from '../summary.js';
import { redactUrl } from '../redact.js';
import { CUT_SHORT } from '../attacks/attack.js';

// Built when asked for: the options' table (their JSON schemas) takes 30 ms that a run does not need.
const help = () => `rs-arena attack --deployment ID [options]

  --endpoint URL       server base URL (env RS_ARENA_ENDPOINT; default http://127.0.0.1:8080)
  --key KEY            API key (env RS_ARENA_KEY); repeated, or with --keys-file, the attacker's
                       pool of accounts (adaptive: queries spread over the keys, see below)
  --deployment ID      deployment to attack (v2: the model name)
${TARGET_HELP}  --attack NAMES       an attack below, or a comma-separated list (default ${ATTACK_NAMES[0]})
  --budget N           queries per image, every query counted (default 2000)
  --images SOURCE      "sample" (the shipped test images, default), a folder of PNG/JPEG
                       images, or a raw float32 file (.f32/.bin)
  --labels FILE        true labels for a folder or raw file (JSON array/object, or one per line);
                       without them the endpoint's answer on each clean image is used (1 query)
  --count N            images to attack (default 20)      --offset N   first image (default 0)
  --concurrency N      images attacked at once (default 4)
  --seed N             seed of the attacks' randomness (default 0)
  --option K=V         attack option, repeatable; each chosen attack takes the options it has
  --out FILE           JSONL results, appended; a rerun resumes: an image already attacked with the
                       same endpoint, deployment, attack, options, budget and seed is skipped
                       (default results.jsonl)
  --save-dir DIR       adversarials as .f32 + .png (default: <out>-adv/)   --no-save
  --confirm N          after each attack, ask its adversarial N more times (fresh answers, outside
                       the budget; default 5, 0: never). Skipped where the endpoint discloses a
                       deterministic model. Against a random endpoint (randomized smoothing) one
                       wrong answer is not an adversarial: the summary's "confirmed" column says how
                       often it is wrong again, and fresh answers that differ reveal randomness the
                       endpoint does not disclose. For points adversarial at a confidence level use a
                       noise-aware attack (psj, *-seq; docs/red-team.md).
  --json               print the summary as JSON instead of a table

Adaptive attacker (against a stateful detector; any attack above; docs/red-team.md):
  --blind-noise S      query blinding: every query (each repeat too) gets Gaussian noise of std S
                       per value (0–1 scale of the input range), clipped to the range
  --blind-shift K      query blinding: a random integer shift of up to K pixels per axis first
  --rejection-aware    a refused query (403, charged) is resampled with more blinding noise
                       (grown while the recent refusal rate exceeds --target-rate; OARS)
  --target-rate R      refusal rate to stay under (default 0.05)
  --retries N          resamples of one refused point before it counts as not adversarial (default 4)
  --keys-file FILE     API keys, one per line (with --key: all of them); more than one key makes a
                       many-account attacker, its budget booked per key and in total
  --rotate MODE        spread (default: each call to the next key) or fail-over (one key until it
                       is refused or suspended)
  --per-key-budget N   queries booked at most per key (default: --budget ÷ keys, rounded up)

Records of runs against a detector carry "detection": queries refused, queries at the first
refusal, accounts used and suspended, per-key queries, and OARS's cost if every refusal cost an
account (queries + refused). Keys are never recorded.

Exit status: 0 done; 1 failed; 2 usage error; 3 cut short: the server refused queries for its
budget (stop reason budget-refused) before every image was attacked; a rerun resumes them.

Attacks [the distance each minimises] and their options (--option K=V: type and range, default, doc):
${optionsHelp()}`;

export async function attackCommand(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseFlags(argv, {
      endpoint: { type: 'string', default: process.env.RS_ARENA_ENDPOINT ?? 'http://127.0.0.1:8080' },
      key: { type: 'string', multiple: true, default: process.env.RS_ARENA_KEY ? [process.env.RS_ARENA_KEY] : [] },
      'keys-file': { type: 'string' },
      'blind-noise': { type: 'string' },
      'blind-shift': { type: 'string' },
      'rejection-aware': { type: 'boolean', default: false },
      'target-rate': { type: 'string' },
      retries: { type: 'string' },
      rotate: { type: 'string' },
      'per-key-budget': { type: 'string' },
      deployment: { type: 'string' },
      attack: { type: 'string', default: ATTACK_NAMES[0] },
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
      confirm: { type: 'string', default: '5' },
      help: { type: 'boolean', short: 'h', default: false },
      ...TARGET_FLAGS,
    }).values;
  } catch (err) {
    if (err instanceof UsageError) return usage(err.message);
    throw err;
  }
  if (args.help) {
    process.stdout.write(help());
    return 0;
  }
  if (!args.deployment) return usage('--deployment is required');
  const attacks = args.attack.split(',').map((a) => a.trim());
  const unknown = attacks.filter((a) => !isAttackName(a));
  if (unknown.length) return usage(unknownName('attack', unknown[0], ATTACK_NAMES).message);
  let ints;
  try {
    ints = integerFlags(args, { budget: 0, count: 0, offset: 0, concurrency: 1, seed: 0, confirm: 0 });
  } catch (err) {
    return usage((err as Error).message);
  }
  let options: Record<AttackName, Record<string, unknown>>;
  try {
    options = parseOptions(args.option, attacks as AttackName[]);
  } catch (err) {
    if (err instanceof OptionError) return usage(err.message);
    throw err;
  }

  let keys: string[];
  let adaptive: Adaptive | undefined;
  try {
    keys = keysOf(args.key, args['keys-file']);
    adaptive = adaptiveOf(args, keys.length);
  } catch (err) {
    if (err instanceof UsageError) return usage(err.message);
    throw err;
  }

  let target: Target;
  const pool: Target[] = [];
  try {
    target = await connectTarget({ ...args, key: keys[0], deployment: args.deployment, connections: ints.concurrency });
    pool.push(target);
    // The other accounts: the same endpoint through each key.
    for (const key of keys.slice(1)) pool.push(await connectTarget({ ...args, key, deployment: args.deployment, connections: ints.concurrency }));
  } catch (err) {
    await Promise.all(pool.map((t) => t.oracle.close()));
    if (err instanceof TargetUsageError) return usage(err.message);
    if (err instanceof HttpError || err instanceof ProtocolError || err instanceof ResponseError) return fail(err.message);
    return fail(`cannot reach ${args.endpoint}: ${(err as Error).message}`);
  }
  const { oracle } = target;
  try {
    const images = await loadInputs(
      { source: args.images, count: ints.count, offset: ints.offset, labels: args.labels },
      { shape: oracle.inputShape, range: oracle.range, dataset: target.dataset },
    );
    process.stderr.write(`attacking ${target.banner} at ${redactUrl(args.endpoint)}: ${images.length} images, ${ints.budget} queries each\n`);
    const records: AttackRecord[] = [];
    for (const attack of attacks as AttackName[]) {
      const progress = new Progress(attack, images.length, ints.budget);
      records.push(
        ...(await runCampaign(
          {
            oracle,
            endpoint: redactUrl(args.endpoint),
            deployment: args.deployment,
            attack,
            attackOptions: options[attack],
            budget: ints.budget,
            seed: ints.seed,
            images,
            concurrency: ints.concurrency,
            out: args.out,
            saveDir: args['no-save'] ? null : args['save-dir'],
            labelSource: target.labelSource,
            endpointRandomness: target.random === null ? 'undisclosed' : target.random ? 'disclosed-random' : 'disclosed-deterministic',
            confirm: target.random === false ? 0 : ints.confirm,
            protocol: target.protocol,
            encoding: encodingLabel(target.encoding),
            adaptive,
            pool: pool.length > 1 ? pool.map((t) => t.oracle) : undefined,
          },
          progress.onEvent,
        )),
      );
      progress.finish();
    }
    const rows = summarize(records);
    process.stdout.write(args.json ? JSON.stringify(rows, null, 2) + '\n' : summaryTable(rows) + '\n');
    process.stderr.write(`results: ${args.out}\n`);
    // Images the server refused (and those never started after it did) are not done.
    const notDone = images.length * attacks.length - records.filter((r) => !CUT_SHORT.includes(r.stopReason)).length;
    if (notDone > 0) {
      process.stderr.write(`rs-arena attack: cut short: ${notDone} image run(s) not done, the server refused queries for its budget; a rerun resumes them\n`);
      return 3;
    }
    return 0;
  } catch (err) {
    const failure = endpointFailure(err, args.endpoint);
    if (failure) return fail(failure);
    throw err;
  } finally {
    await Promise.all(pool.map((t) => t.oracle.close()));
  }
}

/** The attacker's keys: each --key, then each line of --keys-file (blank lines and # comments skipped). */
function keysOf(flags: string[], file: string | undefined): string[] {
  const keys = [...flags];
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`--keys-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const lines = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    if (lines.length === 0) throw new UsageError(`--keys-file ${file}: no key in it`);
    keys.push(...lines);
  }
  if (new Set(keys).size !== keys.length) throw new UsageError('the same key is given twice (--key, --keys-file)');
  return keys;
}

/** The adaptive attacker the flags describe (adaptive.ts's schema decides what is valid), or undefined: plain. */
function adaptiveOf(a: Record<string, unknown>, keys: number): Adaptive | undefined {
  const num = (flag: string) => {
    const v = a[flag] as string | undefined;
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} expects a number, got "${v}"`);
    return n;
  };
  const blindNoise = num('blind-noise');
  const blindShift = num('blind-shift');
  const rejection = a['rejection-aware'] === true;
  const rejectionFlags = { targetRate: num('target-rate'), retries: num('retries') };
  const rotate = a.rotate as string | undefined;
  const perKeyBudget = num('per-key-budget');
  if (!rejection && Object.values(rejectionFlags).some((v) => v !== undefined)) throw new UsageError('--target-rate and --retries go with --rejection-aware');
  if (keys <= 1 && (rotate !== undefined || perKeyBudget !== undefined))
    throw new UsageError('--rotate and --per-key-budget need more than one key (--key repeated or --keys-file)');
  const input = {
    ...(blindNoise !== undefined || blindShift !== undefined
      ? { blind: { noise: blindNoise ?? 0, ...(blindShift !== undefined ? { shift: blindShift } : {}) } }
      : {}),
    ...(rejection ? { rejectionAware: Object.fromEntries(Object.entries(rejectionFlags).filter(([, v]) => v !== undefined)) } : {}),
    ...(keys > 1 ? { accounts: { keys, ...(rotate !== undefined ? { rotate } : {}), ...(perKeyBudget !== undefined ? { perKeyBudget } : {}) } } : {}),
  };
  const parsed = Adaptive.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const flag: Record<string, string> = {
      'blind.noise': '--blind-noise',
      'blind.shift': '--blind-shift',
      'rejectionAware.targetRate': '--target-rate',
      'rejectionAware.retries': '--retries',
      'accounts.rotate': '--rotate',
      'accounts.perKeyBudget': '--per-key-budget',
    };
    const path = issue.path.join('.');
    throw new UsageError(`${flag[path] ?? path}: ${issue.message}`);
  }
  return isPlain(parsed.data) ? undefined : parsed.data;
}

function usage(message: string): number {
  return usageExit('rs-arena attack', message);
}

function fail(message: string): number {
  process.stderr.write(`rs-arena attack: ${message}\n`);
  return 1;
}

/**
 * The one line a command that talks to an endpoint prints for an error that is the input's, the
 * endpoint's or the network's (after the client's retries), not a bug: no stack. Undefined otherwise.
 */
export function endpointFailure(err: unknown, endpoint: string): string | undefined {
  if (err instanceof InputError || err instanceof HttpError || err instanceof ResultsFileError || err instanceof ProtocolError || err instanceof ResponseError)
    return err.message;
  // A network failure: refused, reset, timed out.
  if (/^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test((err as { code?: string }).code ?? '')) return `cannot reach ${endpoint}: ${(err as Error).message}`;
  return undefined;
}
