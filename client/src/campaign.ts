// A campaign: one attack against one deployment on a list of images, several images at a time.
// Each finished image is appended to a JSONL results file at once, so an interrupted campaign
// resumes where it stopped: images already in the file (same deployment, attack, budget, seed)
// are skipped. Adversarials are saved as float32 files with PNG previews next to the results.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { tensorToPng } from '@rs-arena/shared/image';
import { float32ToBytes } from '@rs-arena/shared/tensor';
import { ATTACKS, type AttackName } from './attacks/index.js';
import type { AttackOptions } from './attacks/attack.js';
import type { InputImage } from './inputs.js';
import { CountingOracle, type Oracle } from './oracle.js';
import { AttackRecord, recordKey } from './record.js';

export interface CampaignSpec {
  oracle: Oracle;
  endpoint: string;
  deployment: string;
  attack: AttackName;
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
}

export type CampaignEvent =
  | { type: 'skip'; image: string }
  | { type: 'start'; image: string }
  | { type: 'progress'; image: string; queries: number; l2: number }
  | { type: 'done'; record: AttackRecord };

/** Records already in a results file, by key; a torn last line (interrupted write) is ignored. */
export function readResults(path: string): AttackRecord[] {
  if (!existsSync(path)) return [];
  const out: AttackRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      continue;
    }
    const r = AttackRecord.safeParse(json);
    if (r.success) out.push(r.data);
  }
  return out;
}

export async function runCampaign(spec: CampaignSpec, onEvent: (e: CampaignEvent) => void = () => {}): Promise<AttackRecord[]> {
  const seed = spec.seed ?? 0;
  const attack = ATTACKS[spec.attack];
  const done = new Map((spec.out ? readResults(spec.out) : []).map((r) => [r.key, r]));
  const saveDir = spec.saveDir === undefined ? (spec.out ? spec.out.replace(/\.jsonl$/, '') + '-adv' : null) : spec.saveDir;
  if (spec.out) mkdirSync(dirname(spec.out), { recursive: true });
  if (saveDir) mkdirSync(saveDir, { recursive: true });
  // Torn last line from an interrupted run: start the next record on a fresh line.
  if (spec.out && existsSync(spec.out)) {
    const text = readFileSync(spec.out, 'utf8');
    if (text.length && !text.endsWith('\n')) appendFileSync(spec.out, '\n');
  }

  const results: AttackRecord[] = [];
  const queue = spec.images.slice();
  const worker = async () => {
    for (let img = queue.shift(); img; img = queue.shift()) {
      const key = recordKey({ image: img.id, attack: spec.attack, deployment: spec.deployment, budget: spec.budget, seed });
      const previous = done.get(key);
      if (previous) {
        results.push(previous);
        onEvent({ type: 'skip', image: img.id });
        continue;
      }
      onEvent({ type: 'start', image: img.id });
      const record = await attackOne(spec, img, key, seed, saveDir, (queries, l2) => onEvent({ type: 'progress', image: img.id, queries, l2 }));
      if (spec.out) appendFileSync(spec.out, JSON.stringify(record) + '\n');
      results.push(record);
      onEvent({ type: 'done', record });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, spec.concurrency ?? 1) }, worker));
  // Input order, whatever order the workers finished in.
  const order = new Map(spec.images.map((img, i) => [img.id, i]));
  return results.sort((a, b) => order.get(a.image)! - order.get(b.image)!);
}

async function attackOne(spec: CampaignSpec, img: InputImage, key: string, seed: number, saveDir: string | null, onProgress: AttackOptions['onProgress']): Promise<AttackRecord> {
  const cpu0 = process.cpuUsage();
  let counting: CountingOracle;
  if (img.label === null) {
    // No ground truth: the label to move away from is what the endpoint answers (one counted query).
    const label = spec.budget > 0 ? (await spec.oracle.predict(img.values, 1))[0] : -1;
    const spent = spec.budget > 0 ? 1 : 0;
    counting = new CountingOracle(spec.oracle, label, spec.budget, { total: spent, bad: 0, perPhase: { init: { queries: spent, bad: 0 } } });
  } else {
    counting = new CountingOracle(spec.oracle, img.label, spec.budget);
  }
  const options = { ...(spec.attackOptions ?? {}), seed: seed + hashId(img.id), onProgress };
  const result = await ATTACKS[spec.attack].run(counting, img.values, options as never);
  const cpu = process.cpuUsage(cpu0);
  const misclassified = result.stopReason === 'misclassified' || counting.originalLabel < 0;

  let adversarialFile: string | null = null;
  let previewFile: string | null = null;
  if (saveDir && result.adversarial && !misclassified) {
    const stem = `${safe(img.id)}.${spec.attack}.${safe(spec.deployment)}`;
    const f32 = join(saveDir, `${stem}.f32`);
    const png = join(saveDir, `${stem}.png`);
    writeFileSync(f32, float32ToBytes(result.adversarial));
    const shape = spec.oracle.inputShape;
    writeFileSync(png, await tensorToPng(result.adversarial, shape, Math.max(1, Math.floor(112 / shape[1]))));
    const base = spec.out ? dirname(spec.out) : process.cwd();
    adversarialFile = relative(base, f32);
    previewFile = relative(base, png);
  }
  return {
    key,
    image: img.id,
    endpoint: spec.endpoint,
    deployment: spec.deployment,
    attack: spec.attack,
    attackOptions: spec.attackOptions ?? {},
    budget: spec.budget,
    seed,
    trueLabel: img.label,
    originalLabel: counting.originalLabel,
    adversarialLabel: misclassified ? null : result.adversarialLabel,
    misclassified,
    success: result.success && !misclassified,
    l2: misclassified ? null : result.l2,
    linf: misclassified ? null : result.linf,
    queries: result.queries,
    history: result.history,
    stopReason: result.stopReason,
    ...(spec.labelSource ? { labelSource: spec.labelSource } : {}),
    wallMs: result.wallMs,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
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
