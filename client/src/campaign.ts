// A campaign: one attack against one deployment on a list of images, several images at a time.
// Each finished image is appended to a JSONL results file at once, so an interrupted campaign
// resumes where it stopped: an image already in the file under the same key (endpoint, deployment,
// attack, attack options, budget, seed, image) is skipped; change any of them and it runs again.
// Adversarials are saved as float32 files with PNG previews next to the results.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { tensorToPng } from '@rs-arena/shared/image';
import { runAttack } from './attack-run.js';
import { type AttackName, isAttackName, resolveOptions } from './attacks/index.js';
import type { InputImage } from './inputs.js';
import { BudgetExhausted, type Oracle, QueryRefused } from './oracle.js';
import { type Adaptive, isPlain } from './adaptive.js';
import { CUT_SHORT } from './attacks/attack.js';
import { npyBytes } from './npy.js';
import { askAgain } from './randomness.js';
import { AttackRecord, canonical } from './record.js';
import { type RecordSpec, ResultsFile } from './results-file.js';

export interface CampaignSpec {
  oracle: Oracle;
  endpoint: string;
  deployment: string;
  attack: AttackName;
  /** The attack's options as given; the records hold them completed with the defaults. */
  attackOptions?: Record<string, unknown>;
  budget: number;
  seed?: number;
  images: InputImage[];
  concurrency?: number;
  /** JSONL results file (appended); null keeps results in memory only. */
  out: string | null;
  /** Where adversarials go; default: "<results file without .jsonl>-adv/". Null: do not save. */
  saveDir?: string | null;
  /** Recorded with each result: how the oracle's answers became labels (see AttackRecord.labelSource). */
  labelSource?: string;
  /** What the endpoint disclosed about its randomness (randomness.ts), recorded with each result. */
  endpointRandomness?: AttackRecord['endpointRandomness'];
  /**
   * Fresh answers asked on each adversarial found, after its attack and outside its budget (0: none):
   * against a random endpoint "success" is one wrong answer; these say how often it is wrong again,
   * and reveal a randomness the endpoint did not disclose.
   */
  confirm?: number;
  /** The protocol and the inputs' encoding (part of the resume key). */
  protocol?: string;
  encoding?: string;
  /** What the attacker does about a stateful detector (adaptive.ts; part of the resume key). */
  adaptive?: Adaptive;
  /** The endpoint through each of the attacker's keys (`adaptive.accounts`); `oracle` is the first. */
  pool?: readonly Oracle[];
}

export type CampaignEvent =
  | { type: 'skip'; image: string }
  | { type: 'start'; image: string }
  | { type: 'progress'; image: string; queries: number; l2: number }
  | { type: 'done'; record: AttackRecord };

/** What identifies a campaign record: everything that changes its result. */
export function attackRecordKey(
  r: Pick<AttackRecord, 'endpoint' | 'deployment' | 'attack' | 'attackOptions' | 'budget' | 'seed' | 'image'> &
    Partial<Pick<AttackRecord, 'protocol' | 'encoding' | 'adaptive'>>,
): string {
  // Records written before the options were completed with their defaults hold only the given ones.
  let options = r.attackOptions;
  if (isAttackName(r.attack)) {
    try {
      options = resolveOptions(r.attack, options);
    } catch {
      /* options this version no longer accepts: keyed as written */
    }
  }
  // The protocol and encoding change what is asked: keyed, except rs-arena's v1 with float32, which
  // records written before either existed were (so their files still resume).
  const via = (r.protocol ?? 'v1') === 'v1' && (r.encoding ?? 'float32') === 'float32' ? [] : [`${r.protocol}:${r.encoding ?? 'float32'}`];
  // An adaptive attacker is another attacker: keyed (a plain one as before).
  const adaptive = isPlain(r.adaptive) ? [] : [`adaptive:${canonical(r.adaptive)}`];
  return [r.endpoint, r.deployment, r.attack, canonical(options), r.budget, r.seed, r.image, ...via, ...adaptive].join('|');
}

export const attackRecords: RecordSpec<typeof AttackRecord> = { schema: AttackRecord, key: attackRecordKey };

export async function runCampaign(spec: CampaignSpec, onEvent: (e: CampaignEvent) => void = () => {}): Promise<AttackRecord[]> {
  const seed = spec.seed ?? 0;
  const attackOptions = resolveOptions(spec.attack, spec.attackOptions ?? {});
  const file = spec.out ? new ResultsFile(spec.out, attackRecords) : null;
  const saveDir = spec.saveDir === undefined ? (spec.out ? spec.out.replace(/\.jsonl$/, '') + '-adv' : null) : spec.saveDir;
  if (saveDir) mkdirSync(saveDir, { recursive: true });

  const results: AttackRecord[] = [];
  const queue = spec.images.slice();
  const worker = async () => {
    for (let img = queue.shift(); img; img = queue.shift()) {
      const key = attackRecordKey({
        endpoint: spec.endpoint,
        deployment: spec.deployment,
        attack: spec.attack,
        attackOptions,
        budget: spec.budget,
        seed,
        image: img.id,
        protocol: spec.protocol,
        encoding: spec.encoding,
        adaptive: spec.adaptive,
      });
      const previous = file?.get(key);
      // A run the server cut short (its budget refused a query) is not done: a rerun attacks the image again.
      if (previous && !CUT_SHORT.includes(previous.stopReason)) {
        results.push(previous);
        onEvent({ type: 'skip', image: img.id });
        continue;
      }
      onEvent({ type: 'start', image: img.id });
      const record = await attackOne(spec, img, key, seed, saveDir, (queries, l2) => onEvent({ type: 'progress', image: img.id, queries, l2 }));
      file?.add(record);
      results.push(record);
      onEvent({ type: 'done', record });
      // The server refuses this key's queries: the images left would each be refused too.
      if (CUT_SHORT.includes(record.stopReason)) queue.length = 0;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, spec.concurrency ?? 1) }, worker));
  // Input order, whatever order the workers finished in.
  const order = new Map(spec.images.map((img, i) => [img.id, i]));
  return results.sort((a, b) => order.get(a.image)! - order.get(b.image)!);
}

async function attackOne(
  spec: CampaignSpec,
  img: InputImage,
  key: string,
  seed: number,
  saveDir: string | null,
  onProgress: (queries: number, l2: number) => void,
): Promise<AttackRecord> {
  const { record, adversarial } = await attackImage(spec, img, key, seed, { onProgress });
  const files = saveDir && adversarial ? await saveAdversarial(spec, key, record, adversarial, saveDir) : null;
  return withFiles(record, files);
}

/** What attackImage needs of a campaign (a queue worker has no folder: client/src/audit/queued.ts). */
export type AttackImageSpec = Pick<
  CampaignSpec,
  | 'oracle'
  | 'endpoint'
  | 'deployment'
  | 'attack'
  | 'attackOptions'
  | 'budget'
  | 'labelSource'
  | 'endpointRandomness'
  | 'confirm'
  | 'protocol'
  | 'encoding'
  | 'adaptive'
  | 'pool'
>;

/**
 * One image of a campaign: its record (no files yet) and the adversarial found. `budget` overrides
 * the run's budget (a queue worker's attempt may spend less than the task's, its journal says);
 * the record keeps the campaign's budget, which its key holds.
 */
export async function attackImage(
  spec: AttackImageSpec,
  img: InputImage,
  key: string,
  seed: number,
  o: { onProgress?: (queries: number, l2: number) => void; budget?: number } = {},
): Promise<{ record: AttackRecord; adversarial: Float32Array | null }> {
  const r = await runAttack({
    oracle: spec.oracle,
    attack: spec.attack,
    options: spec.attackOptions,
    x0: img.values,
    label: img.label,
    budget: o.budget ?? spec.budget,
    seed: seed + hashId(img.id),
    onProgress: o.onProgress,
    adaptive: spec.adaptive,
    pool: spec.pool,
  });
  let confirmation: AttackRecord['confirmation'] = null;
  if (r.adversarial && (spec.confirm ?? 0) > 0) {
    try {
      confirmation = await askAgain(spec.oracle, r.adversarial, spec.confirm!, r.originalLabel);
    } catch (err) {
      // Refused (for budget, or by a detector): not confirmed, the attack's result stands.
      if (!(err instanceof BudgetExhausted) && !(err instanceof QueryRefused)) throw err;
    }
  }
  const record: AttackRecord = {
    ...r.run,
    budget: spec.budget,
    key,
    // The campaign's seed (the attack's own is derived from it and the image).
    seed,
    image: img.id,
    endpoint: spec.endpoint,
    deployment: spec.deployment,
    trueLabel: img.label,
    originalLabel: r.originalLabel,
    adversarialLabel: r.adversarialLabel,
    clientCpuMs: r.clientCpuMs,
    ...(spec.labelSource ? { labelSource: spec.labelSource } : {}),
    ...(spec.endpointRandomness ? { endpointRandomness: spec.endpointRandomness } : {}),
    confirmation,
    ...(spec.protocol ? { protocol: spec.protocol } : {}),
    ...(spec.encoding ? { encoding: spec.encoding } : {}),
    adversarialFile: null,
    previewFile: null,
    finishedAt: new Date().toISOString(),
  };
  return { record, adversarial: r.adversarial };
}

/** The record with its files' paths (in the record's field order). */
export function withFiles(record: AttackRecord, files: { adversarialFile: string; previewFile: string } | null): AttackRecord {
  const { finishedAt, ...rest } = record;
  return { ...rest, adversarialFile: files?.adversarialFile ?? null, previewFile: files?.previewFile ?? null, finishedAt };
}

/** Saves an adversarial as .npy and a PNG preview in `saveDir`; their paths relative to the results file's folder. */
export async function saveAdversarial(
  spec: Pick<CampaignSpec, 'oracle' | 'attack' | 'deployment' | 'out'>,
  key: string,
  record: Pick<AttackRecord, 'image'>,
  adversarial: Float32Array,
  saveDir: string,
): Promise<{ adversarialFile: string; previewFile: string }> {
  // The key's hash: a rerun with other options or another endpoint does not overwrite these files.
  const stem = `${safe(record.image)}.${spec.attack}.${safe(spec.deployment)}.${hashId(key).toString(36)}`;
  const npy = join(saveDir, `${stem}.npy`);
  const png = join(saveDir, `${stem}.png`);
  mkdirSync(saveDir, { recursive: true });
  const shape = spec.oracle.inputShape;
  writeFileSync(npy, npyBytes(adversarial, shape));
  writeFileSync(png, await tensorToPng(adversarial, shape, Math.max(1, Math.floor(112 / shape[1]))));
  const base = spec.out ? dirname(spec.out) : process.cwd();
  return { adversarialFile: relative(base, npy), previewFile: relative(base, png) };
}

/** A per-image seed offset, so that images do not share their random directions. */
function hashId(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return (h >>> 0) % 1_000_000;
}

const safe = (s: string) => basename(s).replace(/[^A-Za-z0-9._-]+/g, '_');
