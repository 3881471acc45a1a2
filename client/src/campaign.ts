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
import { BudgetExhausted, type Oracle } from './oracle.js';
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
}

export type CampaignEvent =
  | { type: 'skip'; image: string }
  | { type: 'start'; image: string }
  | { type: 'progress'; image: string; queries: number; l2: number }
  | { type: 'done'; record: AttackRecord };

/** What identifies a campaign record: everything that changes its result. */
export function attackRecordKey(r: Pick<AttackRecord, 'endpoint' | 'deployment' | 'attack' | 'attackOptions' | 'budget' | 'seed' | 'image'> & Partial<Pick<AttackRecord, 'protocol' | 'encoding'>>): string {
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
  return [r.endpoint, r.deployment, r.attack, canonical(options), r.budget, r.seed, r.image, ...via].join('|');
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
      const key = attackRecordKey({ endpoint: spec.endpoint, deployment: spec.deployment, attack: spec.attack, attackOptions, budget: spec.budget, seed, image: img.id, protocol: spec.protocol, encoding: spec.encoding });
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

async function attackOne(spec: CampaignSpec, img: InputImage, key: string, seed: number, saveDir: string | null, onProgress: (queries: number, l2: number) => void): Promise<AttackRecord> {
  const r = await runAttack({
    oracle: spec.oracle,
    attack: spec.attack,
    options: spec.attackOptions,
    x0: img.values,
    label: img.label,
    budget: spec.budget,
    seed: seed + hashId(img.id),
    onProgress,
  });
  let adversarialFile: string | null = null;
  let previewFile: string | null = null;
  if (saveDir && r.adversarial) {
    // The key's hash: a rerun with other options or another endpoint does not overwrite these files.
    const stem = `${safe(img.id)}.${spec.attack}.${safe(spec.deployment)}.${hashId(key).toString(36)}`;
    const npy = join(saveDir, `${stem}.npy`);
    const png = join(saveDir, `${stem}.png`);
    const shape = spec.oracle.inputShape;
    writeFileSync(npy, npyBytes(r.adversarial, shape));
    writeFileSync(png, await tensorToPng(r.adversarial, shape, Math.max(1, Math.floor(112 / shape[1]))));
    const base = spec.out ? dirname(spec.out) : process.cwd();
    adversarialFile = relative(base, npy);
    previewFile = relative(base, png);
  }
  let confirmation: AttackRecord['confirmation'] = null;
  if (r.adversarial && (spec.confirm ?? 0) > 0) {
    try {
      confirmation = await askAgain(spec.oracle, r.adversarial, spec.confirm!, r.originalLabel);
    } catch (err) {
      if (!(err instanceof BudgetExhausted)) throw err; // refused: not confirmed, the attack's result stands
    }
  }
  return {
    ...r.run,
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
    adversarialFile,
    previewFile,
    finishedAt: new Date().toISOString(),
  };
}

/** A per-image seed offset, so that images do not share their random directions. */
function hashId(id: string): number {
  let h = 2166136261;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 16777619);
  return (h >>> 0) % 1_000_000;
}

const safe = (s: string) => basename(s).replace(/[^A-Za-z0-9._-]+/g, '_');
