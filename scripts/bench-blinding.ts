// The Blacklight threshold, tested (issue 19 part 3): where does query blinding stop a Blacklight-style
// detector from seeing HSJA? For each blinding noise scale (per-value std on the 0–1 scale, issue:
// 0 … 0.032) HSJA (default settings) attacks the same images through `BlindedOracle`
// (client/src/adaptive.ts) while the server's own detector (defense-chain.ts, blacklight with its
// default settings for this model: window 20, stride 1, threshold 40 at ≤ 1,024 input values) watches
// every query. The detector here flags but does not stop the attack, so the run also shows what
// blinding does to the attack itself (success, L2 of the point it returns, checked on the model).
//
// Per scale: images detected (share, Clopper-Pearson 95%), queries to first detection (median),
// share of queries flagged, success and median L2 (bootstrap 95% over images) and its paired ratio to
// the unblinded run on the same images; beside the scale predicted from the quantization step
// (`predictedNoise`, see below). Writes JSON, CSV and a Vega-Lite figure (SVG + PNG).
//
//   npm run bench:blinding -- [--images 20] [--budget 1000] [--noises 0,0.001,0.002,0.004,0.008,0.016,0.032]
//     [--shift 0] [--threshold T] [--out results/bench-blinding]
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Rng } from '@rs-arena/shared/rng';
import { findModel, loadCatalog, loadSample, resolveModel } from '@rs-arena/shared/catalog';
import { bootstrap, clopperPearsonInterval, quantile } from '@rs-arena/shared/stats';
import { OnnxModel } from '../server/src/model.js';
import { defaultWindow } from '../server/src/fingerprint.js';
import { defaultThreshold } from '../server/src/defenses/blacklight.js';
import { ATTACKS } from '../client/src/attacks/index.js';
import type { Attack } from '../client/src/attacks/attack.js';
import { BlindedOracle } from '../client/src/adaptive.js';
import { CountingOracle } from '../client/src/oracle.js';
import { lineChart } from '../client/src/report/charts.js';
import { writeCsv, writeFigure } from '../client/src/report/figures.js';
import { correctlyClassified, defenseOf, Watched } from './in-process-defense.js';
import { scriptArgs } from './args.js';

const args = scriptArgs('npm run bench:blinding -- [options]', {
  images: { type: 'string', default: '20' },
  budget: { type: 'string', default: '1000' },
  noises: { type: 'string', default: '0,0.001,0.002,0.004,0.008,0.016,0.032' },
  shift: { type: 'string', default: '0' },
  threshold: { type: 'string', number: true, help: "Blacklight's threshold (default: its own)." },
  out: { type: 'string', default: 'results/bench-blinding' },
  hsja: { type: 'string', default: '{}', help: "HSJA's options as JSON (e.g. '{\"deltaFactor\": 0.1}': a probe radius above the blinding noise)." },
  replot: { type: 'string', help: 'Redraw the figure of a sweep from its JSON file; nothing is run.' },
  name: { type: 'string', help: 'File names in --out (default bench-blinding, with -shift<k> when shifting).' },
});
const noises = args.noises.split(',').map(Number);
const budget = Number(args.budget);
const shift = Number(args.shift);
const log = (s: string) => process.stdout.write(s + '\n');

/**
 * The blinding noise at which a probe repeated around one point stops sharing `threshold` of the
 * `keep` window hashes with it, from the quantization alone (Blacklight's analysis as the issue
 * did it). Values on the 0–255 scale, salted, are rounded to multiples of `step`; Gaussian noise of
 * std s·255 moves a value across a rounding boundary with probability ≈ E|N|/step = s·255·√(2/π)/step
 * (offsets uniform thanks to the salt, s·255 ≪ step); a window of `window` values keeps its hash when
 * none moves: q = (1 − p)^window. Hashes of changed windows are fresh random values, so the kept top
 * `keep` of the new query hold about keep·q of the old ones: detection needs q ≥ threshold/keep, i.e.
 * s* = step·(1 − (threshold/keep)^(1/window)) / (255·√(2/π)).
 * Issue's numbers (threshold 25 of 50, step 50): window 20 → 0.0084, window 50 → 0.0034.
 * Not modelled: values clipped at 0 or 1 (half the noise is cut there, so the real s* is higher on
 * images with much black or white), flat windows (left out of fingerprints), and the attack's own
 * probes being near, not exactly at, one point (they share fewer hashes to begin with: lower s*).
 */
export function predictedNoise(step: number, window: number, threshold: number, keep: number): number {
  const p = 1 - (threshold / keep) ** (1 / window);
  return (step * p) / (255 * Math.sqrt(2 / Math.PI));
}

/**
 * The chance that two blinded copies of one point (each with its own noise: their values differ by
 * std s·√2) share at least `threshold` of the `keep` hashes, in the model above: each window's hash
 * survives with q = (1 − p)^window, p = s·√2·255·√(2/π)/step, and the shared count is
 * Binomial(keep, q). An attack is flagged once ANY pair of its many near-identical queries matches,
 * so detection persists until (pairs of near-duplicates) × this ≪ 1: well above s*, where q ≈ threshold/keep.
 */
export function pairFlagProbability(noise: number, step: number, window: number, threshold: number, keep: number): number {
  const p = Math.min(1, (noise * Math.SQRT2 * 255 * Math.sqrt(2 / Math.PI)) / step);
  const q = (1 - p) ** window;
  let tail = 0;
  let logC = 0; // log C(keep, k), built up from k = 0
  for (let k = 0; k <= keep; k++) {
    if (k > 0) logC += Math.log((keep - k + 1) / k);
    if (k >= threshold) tail += Math.exp(logC + k * Math.log(q) + (keep - k) * Math.log1p(-q));
  }
  return noise === 0 ? 1 : tail;
}

interface FigureRow {
  noise: number;
  detectedShare: number;
  flaggedShare: number;
  successShare: number;
  attackSuccess: number;
  images: number;
  pairFlagModel: number;
}

/** The figure of a sweep (also redrawn from its JSON with --replot). */
async function drawFigure(
  rows: FigureRow[],
  m: { window: number; threshold: number; images: number; budget: number; shift: number; hsja: string; predicted: number },
  dir: string,
  name: string,
) {
  // Log x axis: the unblinded run sits at the left edge, at a nominal scale a step below the smallest.
  const positive = rows.map((r) => r.noise).filter((n) => n > 0);
  const x0 = positive.length ? Math.min(...positive) / 2 : 0.0005;
  const xOf = (n: number) => (n > 0 ? n : x0);
  const svg = await lineChart({
    title: `Blinding vs Blacklight (window ${m.window}, threshold ${m.threshold}): HSJA${m.hsja !== '{}' ? ` ${m.hsja}` : ''}${m.shift ? `, shift ≤ ${m.shift}` : ''}, ${m.images} images, ${m.budget} queries`,
    xLabel: `blinding noise std per value (0–1 scale; leftmost point: none, drawn at ${x0})`,
    yLabel: 'share (of images; flagged: of queries; model: of pairs)',
    xLog: true,
    yRange: [0, 1],
    series: [
      // Two quantities, two hues (detection red, attack blue), each solid per image and dashed per query/verdict.
      { name: 'images detected', points: rows.map((r) => [xOf(r.noise), r.detectedShare]), color: '#c0392b' },
      { name: 'queries flagged (share of all)', points: rows.map((r) => [xOf(r.noise), r.flaggedShare]), dashed: true, color: '#e67e22' },
      { name: 'model: one pair of blinded copies flagged', points: rows.map((r) => [xOf(r.noise), r.pairFlagModel]), dashed: true, color: '#7f8c8d' },
      { name: 'attack success (returned point checked on the model)', points: rows.map((r) => [xOf(r.noise), r.successShare]), color: '#1f5fa8' },
      {
        name: "attack success (attacker's verdict on blinded answers)",
        points: rows.map((r) => [xOf(r.noise), r.attackSuccess / r.images]),
        dashed: true,
        color: '#5dade2',
      },
    ],
    vLines: [{ x: m.predicted, label: `s* ${m.predicted.toFixed(4)}` }],
  });
  return writeFigure(dir, name, 'Blinding vs Blacklight', '', svg);
}

// --replot FILE: redraw the figure of a sweep from its JSON (the pair model recomputed), nothing run.
if (args.replot) {
  const rec = JSON.parse(readFileSync(args.replot, 'utf8'));
  const d = rec.detector;
  const rows = (rec.rows as FigureRow[]).map((r) => ({ ...r, pairFlagModel: pairFlagProbability(r.noise, d.step, d.window, d.threshold, d.keep) }));
  const o = rec.options;
  const fig = await drawFigure(
    rows,
    {
      window: d.window,
      threshold: d.threshold,
      images: rec.images.length,
      budget: Number(o.budget),
      shift: Number(o.shift),
      hsja: o.hsja ?? '{}',
      predicted: rec.predicted.noise,
    },
    dirname(args.replot),
    basename(args.replot, '.json'),
  );
  log(`redrew ${fig.svg}, ${fig.png}`);
  process.exit(0);
}

const catalog = loadCatalog();
const entry = findModel(catalog, 'fmnist-cnn');
if (!entry) throw new Error('no fmnist-cnn in the catalog');
const model = await OnnxModel.load(resolveModel(catalog, entry), { maxBatch: 64 });
const size = model.inputSize;
const sample = loadSample(catalog);
const { window, stride } = defaultWindow(size);
const threshold = args.threshold ? Number(args.threshold) : defaultThreshold(size);
const stage = { name: 'blacklight', ...(args.threshold ? { threshold } : {}) };
const detectorFor = () => defenseOf(model, [stage, 'none']);

// The first `images` sample images the model classifies correctly: the same ones at every scale.
const images = await correctlyClassified(model, sample, Number(args.images));

interface Run {
  noise: number;
  image: number;
  firstFlagged: number | null;
  flagged: number;
  queries: number;
  /** The attack's returned point, asked of the model itself (not through blinding or the detector). */
  success: boolean;
  l2: number | null;
  /** The attack's own verdict (its point was answered adversarial when blinded) and that point's L2. */
  attackSuccess: boolean;
  attackL2: number | null;
}
const hsja = ATTACKS.hsja as unknown as Attack;
const hsjaOptions = ATTACKS.hsja.options.parse(JSON.parse(args.hsja)) as Record<string, unknown>;
const runs: Run[] = [];
const started = performance.now();
for (const noise of noises) {
  for (const i of images) {
    const x0 = sample.images.slice(i * size, (i + 1) * size);
    const watched = new Watched(model, await detectorFor());
    const oracle = noise > 0 || shift > 0 ? new BlindedOracle(watched, { noise, shift }, Rng.seeded(7919 * i + 1)) : watched;
    const r = await hsja.run(new CountingOracle(oracle, sample.labels[i], budget), x0, { ...hsjaOptions, seed: i });
    const checked = r.adversarial ? (await model.predict(r.adversarial, 1))[0] !== sample.labels[i] : false;
    runs.push({
      noise,
      image: i,
      firstFlagged: watched.firstFlagged,
      flagged: watched.flagged,
      queries: watched.queries,
      success: checked,
      l2: checked ? r.l2 : null,
      attackSuccess: r.success,
      attackL2: r.l2,
    });
  }
  const rs = runs.filter((r) => r.noise === noise);
  log(
    `noise ${String(noise).padEnd(6)} detected ${rs.filter((r) => r.firstFlagged !== null).length}/${rs.length}, ` +
      `first at ${rs.map((r) => r.firstFlagged ?? '—').join(' ')}; flagged ${rs.reduce((s, r) => s + r.flagged, 0)} of ${rs.reduce((s, r) => s + r.queries, 0)}; ` +
      `success ${rs.filter((r) => r.success).length}/${rs.length} (${((performance.now() - started) / 1000).toFixed(0)} s)`,
  );
}
await model.close();

// ---- summary -------------------------------------------------------------------------------------
const median = (xs: number[]) => (xs.length ? quantile(xs, 0.5) : null);
const unblinded = new Map(runs.filter((r) => r.noise === 0).map((r) => [r.image, r]));
const rows = noises.map((noise) => {
  const rs = runs.filter((r) => r.noise === noise);
  const detected = rs.filter((r) => r.firstFlagged !== null).length;
  const ok = rs.filter((r) => r.success);
  const l2 = ok.map((r) => r.l2!);
  const l2ci = l2.length >= 2 ? bootstrap(l2, (s) => quantile(s as number[], 0.5)) : null;
  // Paired on images where both this scale and the unblinded run succeeded.
  const ratios = ok.filter((r) => unblinded.get(r.image)?.success).map((r) => Math.log(r.l2! / unblinded.get(r.image)!.l2!));
  const ratioCi = ratios.length >= 2 ? bootstrap(ratios, (s) => quantile(s as number[], 0.5)) : null;
  const flagged = rs.reduce((s, r) => s + r.flagged, 0);
  const queries = rs.reduce((s, r) => s + r.queries, 0);
  return {
    noise,
    images: rs.length,
    detected,
    detectedShare: detected / rs.length,
    detectedCi: clopperPearsonInterval(detected, rs.length),
    firstDetectionMedian: median(rs.filter((r) => r.firstFlagged !== null).map((r) => r.firstFlagged!)),
    flaggedShare: flagged / queries,
    attackSuccess: rs.filter((r) => r.attackSuccess).length,
    attackMedianL2: median(rs.filter((r) => r.attackSuccess).map((r) => r.attackL2!)),
    success: ok.length,
    successShare: ok.length / rs.length,
    successCi: clopperPearsonInterval(ok.length, rs.length),
    medianL2: l2ci?.value ?? median(l2),
    medianL2Ci: l2ci ? [l2ci.lo, l2ci.hi] : null,
    l2RatioToUnblinded: ratioCi ? Math.exp(ratioCi.value) : null,
    l2RatioCi: ratioCi ? [Math.exp(ratioCi.lo), Math.exp(ratioCi.hi)] : null,
    pairedImages: ratios.length,
    pairFlagModel: pairFlagProbability(noise, 50, window, threshold, 50),
  };
});
const predicted = predictedNoise(50, window, threshold, 50);
const predictedRelease = predictedNoise(50, 20, 25, 50);
log(
  `\nwindow ${window}, stride ${stride}, threshold ${threshold} of 50, step 50: predicted s* = ${predicted.toFixed(4)} (threshold 25: ${predictedRelease.toFixed(4)}); budget ${budget}, ${images.length} images, shift ${shift}`,
);
log('noise    detected [95% CI]      first-det  flagged  pair-model  success      median L2 [95% CI]     L2 ÷ unblinded [95% CI]');
for (const r of rows) {
  const f = (x: number | null, d = 3) => (x === null ? '—' : x.toFixed(d));
  log(
    `${String(r.noise).padEnd(8)} ${String(r.detected).padStart(2)}/${r.images} [${f(r.detectedCi[0], 2)}, ${f(r.detectedCi[1], 2)}]   ${String(r.firstDetectionMedian ?? '—').padStart(6)}   ${(100 * r.flaggedShare).toFixed(1).padStart(5)}%  ${r.pairFlagModel.toExponential(1).padStart(8)}  ` +
      `${String(r.success).padStart(2)}/${r.images} (attack's verdict ${r.attackSuccess})   ${f(r.medianL2)} [${f(r.medianL2Ci?.[0] ?? null)}, ${f(r.medianL2Ci?.[1] ?? null)}]   ${f(r.l2RatioToUnblinded, 2)} [${f(r.l2RatioCi?.[0] ?? null, 2)}, ${f(r.l2RatioCi?.[1] ?? null, 2)}] (n=${r.pairedImages})`,
  );
}

mkdirSync(args.out, { recursive: true });
const commit = (() => {
  try {
    return execSync('git rev-parse HEAD', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const record = {
  bench: 'blinding',
  commit,
  date: new Date().toISOString(),
  options: args,
  model: model.id,
  detector: { ...stage, window, stride, threshold, keep: 50, step: 50 },
  predicted: {
    pairModel: 'pairFlagProbability: Binomial(keep, (1 − p)^window) ≥ threshold, p = s·√2·255·√(2/π)/step',
    noise: predicted,
    formula: 'step·(1 − (threshold/keep)^(1/window)) / (255·√(2/π))',
    atThreshold25: predictedRelease,
    atWindow50Threshold25: predictedNoise(50, 50, 25, 50),
  },
  images,
  rows,
  runs,
  seconds: (performance.now() - started) / 1000,
};
const tag = args.name ? args.name.replace(/^bench-blinding/, '') : shift > 0 ? `-shift${shift}` : '';
writeFileSync(join(args.out, `bench-blinding${tag}.json`), JSON.stringify(record, null, 2) + '\n');
writeCsv(
  args.out,
  `bench-blinding${tag}.csv`,
  rows.map(({ detectedCi, successCi, medianL2Ci, l2RatioCi, ...r }) => ({
    ...r,
    detectedLo: detectedCi[0],
    detectedHi: detectedCi[1],
    l2Lo: medianL2Ci?.[0],
    l2Hi: medianL2Ci?.[1],
  })),
);
const fig = await drawFigure(rows, { window, threshold, images: images.length, budget, shift, hsja: args.hsja, predicted }, args.out, `bench-blinding${tag}`);
log(`\nwrote ${join(args.out, `bench-blinding${tag}.json`)}, ${fig.svg}, ${fig.png}`);
