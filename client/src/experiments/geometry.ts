// Shared by the geometry figures (Fig. 1–3): an adversarial of the undefended base model for a test
// image (HSJA over HTTP, cached in the results folder), and π0 along points via evaluator votes.
import { join } from 'node:path';
import { base64ToFloat32, float32ToBase64 } from '@rs-arena/shared/tensor';
import { runAttack } from '../attack-run.js';
import { HttpOracle } from '../oracle-http.js';
import { ResultsFile } from '../results-file.js';
import { type ExperimentContext, deploymentFor, inputsFor } from './context.js';
import { baseAdversarialKey, baseAdversarials } from './records/base-adversarial.js';

export interface BasePair {
  key: string;
  model: string;
  image: number;
  label: number;
  shape: [number, number, number];
  x0: Float32Array;
  xa: Float32Array;
  l2: number;
}

/** x0 (a test image) and xa, HSJA's adversarial of the base model after `budget` queries. */
export async function basePair(ctx: ExperimentContext, model: string, image: number, budget = 1000): Promise<BasePair | null> {
  const file = new ResultsFile(join(ctx.dir, baseAdversarials.file), baseAdversarials);
  const { shape, images } = await inputsFor(ctx, model, image + 1);
  const x0 = images[image].values;
  const label = images[image].label!;
  const key = baseAdversarialKey(model, image, budget);
  let stored = file.get(key);
  if (!stored) {
    const id = await deploymentFor(ctx, model, 0, 1);
    const http = await HttpOracle.connect({ endpoint: ctx.endpoint, key: ctx.keys.client, deployment: id });
    try {
      const r = await runAttack({ oracle: http, attack: 'hsja', x0, label, budget, seed: image });
      if (!r.run.success) return null;
      stored = { key, model, image, label, l2: r.run.l2!, adversarial: float32ToBase64(r.adversarial!) };
      file.add(stored);
    } finally {
      await http.close();
    }
  }
  return { key, model, image, label, shape, x0, xa: base64ToFloat32(stored.adversarial), l2: stored.l2 };
}

/** π0 (the original class's share of `samples` noisy votes) at each point of a batch. */
export async function pi0At(
  ctx: ExperimentContext,
  deployment: string,
  shape: [number, number, number],
  points: Float32Array,
  count: number,
  label: number,
  samples: number,
): Promise<number[]> {
  const out: number[] = [];
  const size = shape[0] * shape[1] * shape[2];
  const per = Math.max(1, Math.floor(200_000 / samples)); // keep each request's work bounded
  for (let start = 0; start < count; start += per) {
    const k = Math.min(per, count - start);
    const res = await ctx.evaluator.votes(deployment, points.subarray(start * size, (start + k) * size), [k, ...shape], samples);
    for (const c of res.counts) out.push(c[label] / samples);
  }
  return out;
}

/** x0 + t(xa − x0), clipped to [0,1]. */
export function along(x0: Float32Array, xa: Float32Array, t: number, out = new Float32Array(x0.length)): Float32Array {
  for (let j = 0; j < x0.length; j++) out[j] = Math.min(1, Math.max(0, x0[j] + t * (xa[j] - x0[j])));
  return out;
}

/**
 * The first t where `values` falls below `level`, interpolated linearly between the two grid points
 * around the crossing; 0 if it starts below, null if it never gets there.
 */
export function firstCrossing(ts: number[], values: number[], level: number): number | null {
  const k = values.findIndex((v) => v < level);
  if (k <= 0) return k === 0 ? ts[0] : null;
  return ts[k - 1] + ((values[k - 1] - level) / (values[k - 1] - values[k])) * (ts[k] - ts[k - 1]);
}
