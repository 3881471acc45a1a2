// What each defense costs a benign user, and what a detector costs the server, on Fashion-MNIST and
// (when ../shared/imagenet is present) ImageNet inputs, in-process through the server's own defense
// code (defense-chain.ts):
//   - benign stream: every shipped test image once, then the same images under mild natural changes
//     (1-pixel shifts, brightness ×1.1, JPEG re-encoding at quality 90), through Blacklight with its
//     default settings, all from one key: the share flagged (false positives), per part of the stream;
//   - clean accuracy of each defense on the shipped images beside the undefended model, with 95%
//     intervals, and the paired difference (same images) to the undefended model;
//   - hashing cost per query against the model's forward pass, at both input sizes;
//   - HSJA (default settings) against the detector on Fashion-MNIST: the query at which it is first
//     flagged, per image (a fresh key per image).
// Prints the numbers and writes JSON (which code and options made them).
//
//   npm run bench:defenses -- [--images 1000] [--sigma 0.25] [--n 100] [--taus 0.5,0.7,0.9,0.99] [--smoothing-model fmnist-cnn-randtrain]
//     [--imagenet-images 200] [--imagenet-n 10] [--hsja-images 10] [--hsja-budget 200] [--out out/bench-defenses.json]
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { findModel, loadCatalog, loadSample, resolveModel } from '@rs-arena/shared/catalog';
import { imageToTensor } from '@rs-arena/shared/image';
import { OnnxModel } from '../server/src/model.js';
import { Scheduler } from '../server/src/scheduler.js';
import { QueryRefused, type Defense, type DefenseContext } from '../server/src/defense.js';
import { defaultWindow, fingerprint, hashKeyFrom, saltFrom } from '../server/src/fingerprint.js';
import { ATTACKS } from '../client/src/attacks/index.js';
import type { Attack } from '../client/src/attacks/attack.js';
import { CountingOracle } from '../client/src/oracle.js';
import { BENIGN_PARTS } from '../client/src/natural-changes.js';
import { defenseOf as inProcess, Watched } from './in-process-defense.js';
import { scriptArgs } from './args.js';

const args = scriptArgs('npm run bench:defenses -- [options]', {
  images: { type: 'string', default: '1000' },
  sigma: { type: 'string', default: '0.25' },
  n: { type: 'string', default: '100' },
  taus: { type: 'string', default: '0.5,0.7,0.9,0.99' },
  'smoothing-model': {
    type: 'string',
    default: 'fmnist-cnn-randtrain',
    help: "The noise-trained model the gated rows also smooth with below τ (Fashion-MNIST; '' for none).",
  },
  'imagenet-images': { type: 'string', default: '200' },
  'imagenet-n': { type: 'string', default: '10' },
  'imagenet-dir': { type: 'string', default: resolve(import.meta.dirname, '../../shared/imagenet') },
  'hsja-images': { type: 'string', default: '10' },
  'hsja-budget': { type: 'string', default: '200' },
  threshold: { type: 'string', number: true, help: "Blacklight's threshold in the benign stream and against HSJA (default: its own, 25)." },
  sections: { type: 'string', default: 'benign,cost,accuracy,hsja' },
  datasets: { type: 'string', default: 'fashion-mnist,imagenet' },
  out: { type: 'string', default: 'out/bench-defenses.json' },
});
const sections = new Set(args.sections.split(','));
const detectorStage = { name: 'blacklight', ...(args.threshold ? { threshold: Number(args.threshold) } : {}) };
const sigma = Number(args.sigma);
const taus = args.taus.split(',').map(Number);
const smoothingModel = args['smoothing-model'];
const catalog = loadCatalog();

interface Dataset {
  name: string;
  modelId: string;
  shape: readonly [number, number, number];
  images: Float32Array[];
  labels: number[];
  n: number;
}

const log = (s: string) => process.stdout.write(s + '\n');

// ---- statistics --------------------------------------------------------------------------------
/** Wilson score interval (95%) of k successes in n. */
function wilson(k: number, n: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = 1.959964;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}
/** Mean paired difference with a 95% normal interval. */
function paired(a: boolean[], b: boolean[]): { diff: number; ci: [number, number] } {
  const d = a.map((x, i) => Number(x) - Number(b[i]));
  const m = d.reduce((s, v) => s + v, 0) / d.length;
  const sd = Math.sqrt(d.reduce((s, v) => s + (v - m) ** 2, 0) / Math.max(1, d.length - 1));
  const h = (1.959964 * sd) / Math.sqrt(d.length);
  return { diff: m, ci: [m - h, m + h] };
}
const pct = (x: number) => (100 * x).toFixed(1).padStart(5);

// ---- inputs ------------------------------------------------------------------------------------
function fmnist(count: number): Dataset {
  const s = loadSample(catalog);
  const k = Math.min(count, s.labels.length);
  return {
    name: 'fashion-mnist',
    modelId: 'fmnist-cnn',
    shape: [1, 28, 28],
    images: Array.from({ length: k }, (_, i) => s.images.slice(i * 784, (i + 1) * 784)),
    labels: Array.from(s.labels.subarray(0, k)),
    n: Number(args.n),
  };
}

async function imagenet(count: number): Promise<Dataset | undefined> {
  const dir = args['imagenet-dir'];
  if (!existsSync(join(dir, 'expected_predictions.tsv')) || !existsSync(join(dir, 'squeezenet1.1-fp32.onnx'))) return undefined;
  const rows = readFileSync(join(dir, 'expected_predictions.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1, 1 + count);
  const images: Float32Array[] = [];
  const labels: number[] = [];
  for (const row of rows) {
    const [file, truth] = row.split('\t');
    images.push(await imageToTensor(readFileSync(join(dir, 'images', file)), { shape: [3, 224, 224], resize: 'crop' }));
    labels.push(Number(truth));
  }
  return { name: 'imagenet', modelId: 'imagenet-squeezenet1.1', shape: [3, 224, 224], images, labels, n: Number(args['imagenet-n']) };
}

async function loadModel(id: string): Promise<OnnxModel> {
  if (id.startsWith('imagenet')) process.env.RS_ARENA_IMAGENET_DIR = args['imagenet-dir'];
  const entry = findModel(catalog, id);
  if (!entry) throw new Error(`no model ${id}`);
  return OnnxModel.load(resolveModel(loadCatalog(), entry), { maxBatch: 64 });
}

/** Second models a gated defense smooths with (`--smoothing-model`), loaded once each, each with its own scheduler. */
const others = new Map<string, Promise<OnnxModel>>();
const modelById: DefenseContext['modelById'] = async (id) => {
  if (!others.has(id)) others.set(id, loadModel(id));
  const other = await others.get(id)!;
  return { model: other, scheduler: new Scheduler(other, { batchSize: 128 }) };
};
const defenseOf = (model: OnnxModel, defense: unknown): Promise<Defense> => inProcess(model, defense, { batchSize: 128, modelById });

// ---- the measurements --------------------------------------------------------------------------
async function benignStream(ds: Dataset, model: OnnxModel) {
  const detector = await defenseOf(model, [detectorStage, 'none']);
  const parts = BENIGN_PARTS.map((p) => ({ name: p.name, make: (x: Float32Array) => p.make(x, ds.shape) }));
  const result: Record<string, { queries: number; flagged: number; share: number; ci: [number, number] }> = {};
  const correctOriginal: boolean[] = [];
  let total = 0;
  let flaggedTotal = 0;
  for (const part of parts) {
    let flagged = 0;
    for (let i = 0; i < ds.images.length; i++) {
      const x = await part.make(ds.images[i]);
      try {
        const [label] = await detector.predict.run(x, 1, undefined, { key: 'benign' });
        if (part.name === 'original') correctOriginal.push(label === ds.labels[i]);
      } catch (err) {
        if (!(err instanceof QueryRefused)) throw err;
        flagged++;
        if (part.name === 'original') correctOriginal.push(false);
      }
    }
    result[part.name] = { queries: ds.images.length, flagged, share: flagged / ds.images.length, ci: wilson(flagged, ds.images.length) };
    total += ds.images.length;
    flaggedTotal += flagged;
    log(`  benign ${part.name.padEnd(11)} ${String(flagged).padStart(4)} of ${ds.images.length} flagged (${pct(flagged / ds.images.length)}%)`);
  }
  const all = { queries: total, flagged: flaggedTotal, share: flaggedTotal / total, ci: wilson(flaggedTotal, total) };
  log(`  benign stream: ${flaggedTotal} of ${total} flagged = ${pct(all.share)}% (95% CI ${pct(all.ci[0])}–${pct(all.ci[1])}%)`);
  return { parts: result, all, correctOriginal };
}

async function hashingCost(ds: Dataset, model: OnnxModel) {
  const size = model.inputSize;
  const secret = Buffer.alloc(32, 7);
  const salt = saltFrom(secret, size);
  const key = hashKeyFrom(secret);
  const range = model.model.entry.input.range;
  const k = Math.min(ds.images.length, size > 10_000 ? 50 : 500);
  const out: Record<string, number> = {};
  for (const hash of ['keyed', 'sha256'] as const) {
    const s = { step: 50, ...defaultWindow(size), keep: 50, hash, skipFlat: true };
    const t = performance.now();
    for (let i = 0; i < k; i++) fingerprint(ds.images[i], range, salt, s, key);
    out[`fingerprint_${hash}_ms`] = (performance.now() - t) / k;
  }
  let t = performance.now();
  for (let i = 0; i < k; i++) await model.predict(ds.images[i], 1);
  out.forward_batch1_ms = (performance.now() - t) / k;
  const batch = new Float32Array(16 * size);
  for (let i = 0; i < 16; i++) batch.set(ds.images[i % ds.images.length], i * size);
  const rounds = Math.max(1, Math.floor(k / 16));
  t = performance.now();
  for (let r = 0; r < rounds; r++) await model.predict(batch, 16);
  out.forward_batch16_ms_per_input = (performance.now() - t) / (rounds * 16);
  log(
    `  hashing per query: keyed ${out.fingerprint_keyed_ms.toFixed(3)} ms, sha256 ${out.fingerprint_sha256_ms.toFixed(3)} ms; ` +
      `forward pass ${out.forward_batch1_ms.toFixed(3)} ms (batch 1), ${out.forward_batch16_ms_per_input.toFixed(3)} ms per input (batch 16)`,
  );
  return out;
}

async function accuracy(ds: Dataset, model: OnnxModel, correctUnderDetector: boolean[]) {
  const n = ds.n;
  const configs: { name: string; defense: unknown }[] = [
    { name: 'none', defense: 'none' },
    { name: `gaussian σ=${sigma} n=${n}`, defense: [{ name: 'gaussian', sigma, n }] },
    ...taus.map((tau) => ({ name: `gated τ=${tau} σ=${sigma} n=${n}`, defense: [{ name: 'gated', tau, sigma, n }] })),
    { name: `gated τ=0.9 RND σ=${sigma} n=1`, defense: [{ name: 'gated', tau: 0.9, sigma, n: 1 }] },
    ...(smoothingModel && ds.name === 'fashion-mnist'
      ? taus.map((tau) => ({
          name: `gated τ=${tau} σ=${sigma} n=${n}, ${smoothingModel} below τ`,
          defense: [{ name: 'gated', tau, sigma, n, smoothingModel }],
        }))
      : []),
    { name: `deterministic σ=${sigma} n=${n}`, defense: [{ name: 'deterministic', sigma, n }] },
  ];
  const rows: Record<string, unknown>[] = [];
  let base: boolean[] = [];
  const size = model.inputSize;
  for (const c of configs) {
    const defense = await defenseOf(model, c.defense);
    const correct: boolean[] = [];
    let passes = 0;
    const started = performance.now();
    for (let at = 0; at < ds.images.length; at += 50) {
      const k = Math.min(50, ds.images.length - at);
      const xs = new Float32Array(k * size);
      for (let i = 0; i < k; i++) xs.set(ds.images[at + i], i * size);
      const labels = await defense.predict.run(xs, k, undefined, { key: 'bench' });
      passes += defense.predict.spent ? defense.predict.spent(labels, k, undefined) : defense.predict.cost(k, undefined);
      for (let i = 0; i < k; i++) correct.push(labels[i] === ds.labels[at + i]);
    }
    if (c.name === 'none') base = correct;
    const k = correct.filter(Boolean).length;
    const row = {
      defense: c.name,
      settings: c.defense,
      images: correct.length,
      accuracy: k / correct.length,
      ci: wilson(k, correct.length),
      vsNone: paired(correct, base),
      forwardPassesPerQuery: passes / correct.length,
      seconds: (performance.now() - started) / 1000,
    };
    rows.push(row);
    log(
      `  ${c.name.padEnd(30)} accuracy ${pct(row.accuracy)}% (${pct(row.ci[0])}–${pct(row.ci[1])}), vs none ${pct(row.vsNone.diff)} pts (${pct(row.vsNone.ci[0])}–${pct(row.vsNone.ci[1])}), ${row.forwardPassesPerQuery.toFixed(1)} passes/query`,
    );
  }
  const kd = correctUnderDetector.filter(Boolean).length;
  const det = {
    defense: 'blacklight > none (benign originals; refused = wrong)',
    images: correctUnderDetector.length,
    accuracy: kd / correctUnderDetector.length,
    ci: wilson(kd, correctUnderDetector.length),
    vsNone: paired(correctUnderDetector, base),
  };
  rows.push(det);
  log(`  ${'blacklight > none'.padEnd(30)} accuracy ${pct(det.accuracy)}% (${pct(det.ci[0])}–${pct(det.ci[1])}), vs none ${pct(det.vsNone.diff)} pts`);
  return rows;
}

async function hsjaVsDetector(ds: Dataset, model: OnnxModel) {
  const hsja = ATTACKS.hsja as unknown as Attack;
  const runs: { image: number; firstFlagged: number | null; flagged: number; queries: number }[] = [];
  for (let i = 0; runs.length < Number(args['hsja-images']) && i < ds.images.length; i++) {
    if ((await model.predict(ds.images[i], 1))[0] !== ds.labels[i]) continue;
    const watched = new Watched(model, await defenseOf(model, [detectorStage, 'none']));
    await hsja.run(new CountingOracle(watched, ds.labels[i], Number(args['hsja-budget'])), ds.images[i], { seed: i });
    runs.push({ image: i, firstFlagged: watched.firstFlagged, flagged: watched.flagged, queries: watched.queries });
    log(`  HSJA image ${i}: first flagged at query ${watched.firstFlagged ?? '—'}, ${watched.flagged} of ${watched.queries} queries flagged`);
  }
  const within50 = runs.filter((r) => r.firstFlagged !== null && r.firstFlagged <= 50).length;
  log(`  HSJA detected within its first 50 queries on ${within50} of ${runs.length} images`);
  return { runs, within50, images: runs.length, budget: Number(args['hsja-budget']) };
}

// ---- run -----------------------------------------------------------------------------------------
const record: Record<string, unknown> = {
  bench: 'defenses',
  commit: (() => {
    try {
      return execSync('git rev-parse HEAD', { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })(),
  date: new Date().toISOString(),
  options: args,
  datasets: {},
};
const wanted = new Set(args.datasets.split(','));
const sets: Dataset[] = wanted.has('fashion-mnist') ? [fmnist(Number(args.images))] : [];
const inet = wanted.has('imagenet') ? await imagenet(Number(args['imagenet-images'])) : undefined;
if (inet) sets.push(inet);
else if (wanted.has('imagenet')) log(`ImageNet: skipped (no models and images at ${args['imagenet-dir']})`);
for (const ds of sets) {
  log(`\n${ds.name} (${ds.modelId}, ${ds.images.length} images)`);
  const model = await loadModel(ds.modelId);
  const entry: Record<string, unknown> = { model: ds.modelId, images: ds.images.length, n: ds.n, sigma, detector: detectorStage };
  const benign = sections.has('benign') || sections.has('accuracy') ? await benignStream(ds, model) : undefined;
  if (benign) entry.benign = { parts: benign.parts, all: benign.all };
  if (sections.has('cost')) entry.cost = await hashingCost(ds, model);
  if (sections.has('accuracy')) entry.accuracy = await accuracy(ds, model, benign!.correctOriginal);
  if (sections.has('hsja') && ds.name === 'fashion-mnist' && Number(args['hsja-images']) > 0) entry.hsja = await hsjaVsDetector(ds, model);
  (record.datasets as Record<string, unknown>)[ds.name] = entry;
  await model.close();
}
mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(args.out, JSON.stringify(record, null, 2) + '\n');
log(`\nwrote ${args.out}`);
