// rs-arena experiment --preset NAME | rs-arena report DIR
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { UsageError, parseFlags, unknownName, usageExit } from './args.js';
import { EXPERIMENT_NAMES } from '../experiments/registry.js';
import { PRESETS, PresetError, type Preset, parsePreset } from '../experiments/presets.js';
import { runPreset } from '../experiments/run.js';
import { buildReport } from '../report/report.js';
import { ResultsFileError } from '../results-file.js';
import { checkCampaign, checkQueueUrl } from '../queue/campaign.js';
import { CampaignCancelled } from '../queue/journal.js';
import { commandLine } from '../redact.js';

const HELP = `rs-arena experiment --preset NAME [options]

  --preset NAME        ${Object.keys(PRESETS).join(', ')}
  --config FILE        a preset as JSON instead: {"name", "description", and per experiment
                       name its config} (as in client/src/experiments/presets.ts)
  --out DIR            results folder (default results/<preset>); a rerun resumes
  --only LIST          some of: ${EXPERIMENT_NAMES.join(', ')}
  --concurrency N      attacks in flight (default 4)
  --imagenet DIR       ImageNet images (wnid-named, labels.tsv beside or above; default
                       $RS_ARENA_IMAGENET_DIR/images or ../shared/imagenet/images)
  --endpoint URL       use a running server instead of starting one; then also
  --admin-key K --evaluator-key K --client-key K   (or RS_ARENA_ADMIN_KEY etc.)
  --queue URL          run the attack tasks as jobs on this Redis (redis://host:6379, or
                       $RS_ARENA_QUEUE), taken by \`rs-arena worker\`s on any machines; needs
                       --endpoint. Records come back into the same results files.
  --campaign NAME      the campaign's name on the queue (default: the results folder's name);
                       a resubmitted campaign queues nothing twice (docs/scale-out.md)

  --keep-stale         resume from records made by other attack code (default: rerun and replace them)

rs-arena report DIR [--allow-mixed-versions]
                       rebuild figures and report.html from a results folder; a cell whose
                       records come from different attack code versions is refused unless allowed
`;

export async function experimentCommand(argv: string[]): Promise<number> {
  let a;
  try {
    a = parseFlags(argv, {
      preset: { type: 'string' },
      config: { type: 'string' },
      out: { type: 'string' },
      only: { type: 'string' },
      concurrency: { type: 'string', default: '4' },
      imagenet: { type: 'string' },
      endpoint: { type: 'string' },
      'admin-key': { type: 'string', default: process.env.RS_ARENA_ADMIN_KEY },
      'evaluator-key': { type: 'string', default: process.env.RS_ARENA_EVALUATOR_KEY },
      'client-key': { type: 'string', default: process.env.RS_ARENA_CLIENT_KEY },
      'keep-stale': { type: 'boolean', default: false },
      queue: { type: 'string', default: process.env.RS_ARENA_QUEUE },
      campaign: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    }).values;
  } catch (err) {
    if (err instanceof UsageError) return usage(err.message);
    throw err;
  }
  if (a.help) {
    process.stdout.write(HELP);
    return 0;
  }
  let preset: Preset;
  try {
    if (a.config) preset = parsePreset(readJson(a.config), a.config);
    else if (a.preset && Object.hasOwn(PRESETS, a.preset)) preset = parsePreset(PRESETS[a.preset], `preset ${a.preset}`);
    else return usage(a.preset ? unknownName('preset', a.preset, Object.keys(PRESETS)).message : '--preset or --config is required');
  } catch (err) {
    if (err instanceof PresetError) return usage(err.message);
    throw err;
  }
  const concurrency = Number(a.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) return usage(`--concurrency must be a positive integer, got "${a.concurrency}"`);
  const only = a.only?.split(',').map((s) => s.trim());
  const wrong = only?.filter((s) => !EXPERIMENT_NAMES.includes(s)) ?? [];
  if (wrong.length) return usage(`--only: ${unknownName('experiment', wrong[0], EXPERIMENT_NAMES).message}`);
  let keys;
  if (a.endpoint) {
    if (!a['admin-key'] || !a['evaluator-key'] || !a['client-key']) return usage('--endpoint needs --admin-key, --evaluator-key and --client-key');
    keys = { admin: a['admin-key'], evaluator: a['evaluator-key'], client: a['client-key'] };
  }
  const imagenetImages = resolve(
    a.imagenet ??
      (process.env.RS_ARENA_IMAGENET_DIR ? `${process.env.RS_ARENA_IMAGENET_DIR}/images` : resolve(import.meta.dirname, '../../../../shared/imagenet/images')),
  );
  const dir = resolve(a.out ?? `results/${preset.name}`);
  let queue;
  if (a.queue) {
    const wrong = checkQueueUrl(a.queue);
    if (wrong) return usage(wrong);
    // Workers elsewhere cannot reach a server this command starts on 127.0.0.1 with fresh keys.
    if (!a.endpoint) return usage('--queue needs --endpoint (and the keys): the workers attack that server');
    const campaign = a.campaign ?? basename(dir);
    const badName = checkCampaign(campaign, !a.campaign, 'results folder');
    if (badName) return usage(badName);
    queue = { url: a.queue, campaign };
  } else if (a.campaign) return usage('--campaign goes with --queue');
  try {
    await runPreset(preset, {
      dir,
      endpoint: a.endpoint,
      keys,
      concurrency,
      imagenetImages,
      only,
      keepStale: a['keep-stale'],
      command: commandLine('rs-arena experiment', argv),
      queue,
    });
    process.stdout.write(`report: ${await buildReport(dir)}\n`);
  } catch (err) {
    if (err instanceof ResultsFileError || err instanceof PresetError || err instanceof CampaignCancelled) return fail(err.message);
    throw err;
  }
  return 0;
}

/** A JSON file; unreadable or not JSON is a PresetError naming the file. */
function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PresetError(`${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PresetError(`${path}: not JSON: ${(err as Error).message}`);
  }
}

function fail(message: string): number {
  process.stderr.write(`rs-arena experiment: ${message}\n`);
  return 1;
}

const REPORT_HELP = `rs-arena report DIR [--allow-mixed-versions]

  Rebuilds the figures, CSV, findings.json and report.html of a results folder written by
  rs-arena experiment (reads its preset.json and JSONL records; queries nothing).
`;

export async function reportCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseFlags(argv, { 'allow-mixed-versions': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } }, true);
  } catch (err) {
    if (err instanceof UsageError) return usageExit('rs-arena report', err.message);
    throw err;
  }
  if (parsed.values.help) {
    process.stdout.write(REPORT_HELP);
    return 0;
  }
  if (parsed.positionals.length !== 1)
    return usageExit('rs-arena report', parsed.positionals.length ? `one results folder, got ${parsed.positionals.length}` : 'a results folder is required');
  const dir = parsed.positionals[0];
  try {
    process.stdout.write(`report: ${await buildReport(resolve(dir), { allowMixedVersions: parsed.values['allow-mixed-versions'] === true })}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`rs-arena report: ${(err as Error).message}\n`);
    return 1;
  }
}

function usage(message: string): number {
  return usageExit('rs-arena experiment', message);
}
