// The shipped models' accuracy on the shipped test sample: clean, and of the smoothed classifier
// g_{σ,n} (majority vote, seeded noise) at the manifest's σ grid.
//   npm run models:accuracy                 # measure and print
//   npm run models:accuracy -- --write      # also record the smoothed figures in models/manifest.json
//   npm run models:accuracy -- --count 200  # a quicker look on the first 200 images
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCatalog, loadSample, resolveModel, Rng } from '@rs-arena/shared';
import { OnnxModel } from '../server/src/model.js';
import { SmoothedClassifier } from '../server/src/smoothing.js';

export const SIGMAS = [0.05, 0.15, 0.25, 0.5];
export const SMOOTHING_N = 100;
export const SMOOTHING_SEED = 0;

/** Fraction of the first `count` sample images that the smoothed model labels correctly. */
export async function smoothedAccuracy(
  model: OnnxModel, images: Float32Array, labels: Uint8Array, count: number, sigma: number, n: number, seed: number,
): Promise<number> {
  const g = new SmoothedClassifier(model, sigma, 1000);
  const rng = Rng.seeded(seed);
  const per = 50; // inputs per votes() call
  let correct = 0;
  for (let i = 0; i < count; i += per) {
    const k = Math.min(per, count - i);
    const predicted = await g.predict(images.subarray(i * model.inputSize, (i + k) * model.inputSize), k, n, { rule: 'majority' }, rng);
    predicted.forEach((p, j) => (correct += p === labels[i + j] ? 1 : 0));
  }
  return correct / count;
}

async function main() {
  const { values } = parseArgs({
    options: { write: { type: 'boolean', default: false }, count: { type: 'string' }, 'no-smoothing': { type: 'boolean', default: false } },
  });
  const catalog = loadCatalog();
  const sample = loadSample(catalog);
  const count = values.count ? Number(values.count) : sample.count;
  if (!(count >= 1 && count <= sample.count)) throw new Error(`--count must be in 1..${sample.count}`);
  console.log(`Shipped models on the first ${count} images of the shipped Fashion-MNIST test sample`);
  console.log(`(smoothed: majority vote of n = ${SMOOTHING_N} noisy copies, seed ${SMOOTHING_SEED})\n`);
  const header = ['model', 'clean', ...(values['no-smoothing'] ? [] : SIGMAS.map((s) => `σ=${s}`)), 'MB', 'ms'];
  console.log(header.map((h, i) => (i === 0 ? h.padEnd(27) : h.padStart(8))).join(''));
  for (const entry of catalog.manifest.models.filter((m) => m.source === 'committed')) {
    const t0 = performance.now();
    const resolved = resolveModel(catalog, entry);
    const model = await OnnxModel.load(resolved);
    const predicted = await model.predict(sample.images.subarray(0, count * model.inputSize), count);
    const clean = predicted.reduce((acc, p, i) => acc + (p === sample.labels[i] ? 1 : 0), 0) / count;
    const smoothed = [];
    if (!values['no-smoothing']) {
      for (const sigma of SIGMAS) {
        smoothed.push({ sigma, n: SMOOTHING_N, seed: SMOOTHING_SEED, accuracy: await smoothedAccuracy(model, sample.images, sample.labels, count, sigma, SMOOTHING_N, SMOOTHING_SEED) });
      }
    }
    const cells = [clean, ...smoothed.map((s) => s.accuracy)].map((a) => `${(100 * a).toFixed(1)}%`.padStart(8));
    const mb = (readFileSync(resolved.path).length / 1e6).toFixed(2).padStart(8);
    console.log(`${entry.id.padEnd(27)}${cells.join('')}${mb}${(performance.now() - t0).toFixed(0).padStart(8)}`);
    if (values.write && count === sample.count && entry.accuracy) {
      entry.accuracy.sample = clean;
      if (smoothed.length) entry.accuracy.smoothed = smoothed;
    }
    await model.close();
  }
  const external = catalog.manifest.models.filter((m) => m.source === 'external');
  for (const entry of external) {
    const r = resolveModel(catalog, entry);
    console.log(`${`${entry.id.padEnd(26)} `}${r.status === 'ok' ? `installed at ${r.path}` : `not installed: ${r.problem}`}`);
  }
  if (values.write) {
    if (count !== sample.count) throw new Error('--write needs the whole sample (no --count)');
    writeFileSync(join(catalog.dir, 'manifest.json'), JSON.stringify(catalog.manifest, null, 2) + '\n');
    console.log('\nrecorded in models/manifest.json');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
