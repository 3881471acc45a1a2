// Does the endpoint answer at random? A randomized defense (RS with a fresh noise draw per query)
// answers the same input differently only where its vote is close, which is near the decision
// boundary: far from it, repeats agree even under RS. So the probe first walks to the boundary (a
// bisection on the blend between two inputs the endpoint labels differently), then repeats the
// boundary point: a deterministic endpoint gives one answer every time, a randomized one disagrees
// with itself. The evidence is kept (points, repeats, distinct answers) and every query is counted.
import type { Oracle } from './oracle.js';

export interface RandomnessEvidence {
  /** Boundary points probed, each asked `repeats` times. */
  points: number;
  repeats: number;
  /** Per point: the share of the repeats that gave its most common answer. */
  agreement: number[];
  /** Queries the probe spent in all. */
  queries: number;
}

export interface RandomnessResult {
  random: boolean;
  evidence: RandomnessEvidence;
}

export interface ProbeOptions {
  /** Boundary points to probe (default 3). */
  points?: number;
  /** Bisection steps toward each boundary point (default 10). */
  steps?: number;
  /** Repeats of each boundary point (default 10). */
  repeats?: number;
}

/**
 * Probes with pairs of `inputs` (each CHW, on the oracle's grid) that the endpoint labels
 * differently. Random when any repeated point got two different answers.
 */
export async function probeRandomness(oracle: Oracle, inputs: Float32Array[], o: ProbeOptions = {}): Promise<RandomnessResult> {
  const points = o.points ?? 3;
  const steps = o.steps ?? 10;
  const repeats = o.repeats ?? 10;
  const size = inputs[0]?.length ?? 0;
  let queries = 0;
  const ask = async (batch: Float32Array, count: number) => {
    queries += count;
    return oracle.predict(batch, count);
  };
  const labels = inputs.length ? await ask(concat(inputs), inputs.length) : new Int32Array(0);
  // Pairs (i, j) with different answers, first ones first.
  const pairs: [number, number][] = [];
  for (let i = 0; i < inputs.length && pairs.length < points; i++) {
    for (let j = i + 1; j < inputs.length && pairs.length < points; j++) if (labels[i] !== labels[j] && labels[i] >= 0 && labels[j] >= 0) pairs.push([i, j]);
  }
  const agreement: number[] = [];
  for (const [i, j] of pairs) {
    const a = inputs[i];
    const b = inputs[j];
    let lo = 0;
    let hi = 1;
    const mid = new Float32Array(size);
    for (let s = 0; s < steps; s++) {
      const t = (lo + hi) / 2;
      for (let k = 0; k < size; k++) mid[k] = a[k] + t * (b[k] - a[k]);
      const [l] = await ask(mid.slice(), 1);
      if (l === labels[i]) lo = t;
      else hi = t;
    }
    const t = (lo + hi) / 2;
    for (let k = 0; k < size; k++) mid[k] = a[k] + t * (b[k] - a[k]);
    // The same point `repeats` times in one batch (identical inputs: identical encodings).
    const point = mid.slice();
    const batch = new Float32Array(repeats * size);
    for (let r = 0; r < repeats; r++) batch.set(point, r * size);
    const answers = await ask(batch, repeats);
    const counts = new Map<number, number>();
    for (const l of answers) counts.set(l, (counts.get(l) ?? 0) + 1);
    agreement.push(Math.max(...counts.values()) / repeats);
  }
  return { random: agreement.some((a) => a < 1), evidence: { points: pairs.length, repeats, agreement, queries } };
}

function concat(xs: Float32Array[]): Float32Array {
  const out = new Float32Array(xs.reduce((s, x) => s + x.length, 0));
  let at = 0;
  for (const x of xs) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}
