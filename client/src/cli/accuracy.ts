// rs-arena accuracy: what σ costs a model before it is deployed. For a model of the server
// (temporary deployments at each σ, created and removed through the admin API) or for one existing
// deployment, on any image folder (or the shipped sample): clean and smoothed accuracy with 95%
// Clopper-Pearson intervals, and the largest σ of the list that costs at most --cost points of
// accuracy (the paper's way of choosing σ: as much noise as the accuracy allows).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { DeploymentInfo } from '@rs-arena/shared/api';
import { clopperPearsonLower, clopperPearsonUpper } from '@rs-arena/shared/stats';
import { ServerAdmin } from '../admin.js';
import { HttpOracle } from '../oracle-http.js';
import { InputError, type InputImage, loadInputs } from '../inputs.js';
import { redactUrl } from '../redact.js';
import { formatTable } from '../summary.js';
import { UsageError, parseFlags, usageExit } from './args.js';

const HELP = `rs-arena accuracy (--model ID | --deployment ID) [options]

Clean and smoothed accuracy, with 95% Clopper-Pearson intervals, over a list of σ, and the σ that
costs a chosen number of points.

  --endpoint URL       server (env RS_ARENA_ENDPOINT; default http://127.0.0.1:8080)
  --model ID           a model of the server: a temporary deployment per σ (needs --admin-key),
                       removed afterwards
  --deployment ID      or one existing deployment, as it is (--key, or --admin-key)
  --admin-key K        admin key (env RS_ARENA_ADMIN_KEY)    --key K   client key (env RS_ARENA_KEY)
  --images SOURCE      "sample", a folder of PNG/JPEG images (labels from --labels or wnid names
                       with labels.tsv), a .npy or raw float32 file (default sample)
  --labels FILE        true labels (JSON array/object, or one per line)
  --count N            images (default 100)
  --sigma LIST         σ values (default 0,0.12,0.25,0.5); 0 is the clean model
  --n N                noisy copies per query (majority vote, default 20)
  --cost POINTS        accuracy points σ may cost against σ = 0 (default 5)
  --seed N             noise seed of the temporary deployments (default 0)
  --json FILE          also write the rows as JSON
`;

interface Row {
  sigma: number;
  n: number;
  images: number;
  correct: number;
  accuracy: number;
  ci95: [number, number];
}

export async function accuracyCommand(argv: string[]): Promise<number> {
  let a;
  try {
    a = parseFlags(argv, {
      endpoint: { type: 'string', default: process.env.RS_ARENA_ENDPOINT ?? 'http://127.0.0.1:8080' },
      model: { type: 'string' },
      deployment: { type: 'string' },
      'admin-key': { type: 'string', default: process.env.RS_ARENA_ADMIN_KEY },
      key: { type: 'string', default: process.env.RS_ARENA_KEY },
      images: { type: 'string', default: 'sample' },
      labels: { type: 'string' },
      count: { type: 'string', default: '100' },
      sigma: { type: 'string', default: '0,0.12,0.25,0.5' },
      n: { type: 'string', default: '20' },
      cost: { type: 'string', default: '5' },
      seed: { type: 'string', default: '0' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    }).values;
  } catch (err) {
    if (err instanceof UsageError) return usageExit('rs-arena accuracy', err.message);
    throw err;
  }
  if (a.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const usage = (m: string) => usageExit('rs-arena accuracy', m);
  if (!a.model === !a.deployment) return usage('give --model ID or --deployment ID');
  const sigmas = a.sigma.split(',').map(Number);
  if (sigmas.some((s) => !Number.isFinite(s) || s < 0 || s > 10)) return usage(`--sigma takes numbers in [0, 10] separated by commas, got "${a.sigma}"`);
  const [count, n, cost, seed] = [a.count, a.n, a.cost, a.seed].map(Number);
  if (!Number.isInteger(count) || count < 1) return usage(`--count must be a positive integer, got "${a.count}"`);
  if (!Number.isInteger(n) || n < 1) return usage(`--n must be a positive integer, got "${a.n}"`);
  if (!(cost >= 0)) return usage(`--cost must be a number of points ≥ 0, got "${a.cost}"`);
  const key = a.model ? a['admin-key'] : (a.key ?? a['admin-key']);
  if (!key) return usage(a.model ? '--model needs --admin-key (temporary deployments)' : '--deployment needs --key or --admin-key');

  const rows: Row[] = [];
  const admin = a.model ? new ServerAdmin(a.endpoint, key) : null;
  const created: string[] = [];
  try {
    const tag = randomBytes(3).toString('hex');
    const targets = a.model
      ? sigmas.sort((x, y) => x - y).map((sigma) => ({ sigma, id: `accuracy-${a.model}-s${sigma}-${tag}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64) }))
      : [{ sigma: NaN, id: a.deployment! }];
    let images: InputImage[] | null = null;
    for (const t of targets) {
      if (admin) {
        await admin.ensureDeployment({ id: t.id, model: a.model!, sigma: t.sigma, n: t.sigma === 0 ? 1 : n, seed, maxBatch: 256, batchSize: 200 });
        created.push(t.id);
      }
      const oracle = await HttpOracle.connect({ endpoint: a.endpoint, key, deployment: t.id });
      try {
        const info: DeploymentInfo = oracle.info;
        images ??= await loadInputs({ source: a.images, count, labels: a.labels }, { shape: oracle.inputShape, range: oracle.range, dataset: info.dataset });
        const labelled = images.filter((img) => img.label !== null);
        if (labelled.length === 0) throw new InputError('no labels for these images: give --labels (or wnid-named files with labels.tsv)');
        const size = labelled[0].values.length;
        const batch = new Float32Array(labelled.length * size);
        labelled.forEach((img, i) => batch.set(img.values, i * size));
        const answers = await oracle.predict(batch, labelled.length);
        const correct = labelled.filter((img, i) => answers[i] === img.label).length;
        const sigma = Number.isNaN(t.sigma) ? (info.smoothing?.sigma ?? NaN) : t.sigma;
        const rowN = Number.isNaN(t.sigma) ? (info.smoothing?.n ?? NaN) : t.sigma === 0 ? 1 : n;
        rows.push({
          sigma,
          n: rowN,
          images: labelled.length,
          correct,
          accuracy: correct / labelled.length,
          ci95: [clopperPearsonLower(correct, labelled.length, 0.025), clopperPearsonUpper(correct, labelled.length, 0.025)],
        });
        process.stderr.write(`σ = ${Number.isNaN(sigma) ? 'undisclosed' : sigma}: ${correct}/${labelled.length}\n`);
      } finally {
        await oracle.close();
      }
    }
  } catch (err) {
    if (err instanceof InputError) {
      process.stderr.write(`rs-arena accuracy: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    for (const id of created) await admin!.removeDeployment(id).catch(() => {});
    await admin?.close();
  }
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  process.stdout.write(
    formatTable(
      ['σ', 'n', 'images', 'accuracy', '95% interval'],
      rows.map((r) => [
        Number.isNaN(r.sigma) ? 'undisclosed' : String(r.sigma),
        Number.isNaN(r.n) ? '–' : String(r.n),
        r.images,
        pct(r.accuracy),
        `${pct(r.ci95[0])}–${pct(r.ci95[1])}`,
      ]),
    ) + '\n',
  );
  const choice = sigmaFor(rows, cost);
  if (choice) process.stdout.write(`${choice}\n`);
  if (a.json)
    writeFileSync(a.json, JSON.stringify({ endpoint: redactUrl(a.endpoint), model: a.model, deployment: a.deployment, cost, rows, choice }, null, 2) + '\n');
  return 0;
}

/** The largest σ of the list whose accuracy is within `cost` points of the clean model's (σ = 0), said in words. */
export function sigmaFor(rows: Row[], cost: number): string | null {
  const clean = rows.find((r) => r.sigma === 0);
  if (!clean) return null;
  const within = rows.filter((r) => r.sigma > 0 && 100 * (clean.accuracy - r.accuracy) <= cost);
  if (within.length === 0)
    return `no σ of the list costs ${cost} points or less (clean ${(100 * clean.accuracy).toFixed(1)}%): try smaller σ, or a noise-trained model`;
  const best = within.reduce((x, y) => (y.sigma > x.sigma ? y : x));
  return `σ = ${best.sigma} costs ${(100 * (clean.accuracy - best.accuracy)).toFixed(1)} points (${(100 * best.accuracy).toFixed(1)}% vs ${(100 * clean.accuracy).toFixed(1)}% clean on ${best.images} images): the largest σ of the list within ${cost} points`;
}
