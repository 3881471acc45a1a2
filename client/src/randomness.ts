// Does the endpoint answer at random? A randomized defense (RS with a fresh noise draw per query)
// answers the same input differently only where its vote is close, which is near the decision
// boundary: far from it, repeats agree even under RS. So the probe first walks to the boundary (a
// bisection on the blend between two inputs the endpoint labels differently), then repeats the
// boundary point: a deterministic endpoint gives one answer every time, a randomized one disagrees
// with itself. The evidence is kept (points, repeats, distinct answers) and every query is counted.
import type { DeploymentInfo } from '@rs-arena/shared/api';
import type { Oracle } from './oracle.js';

interface RandomnessEvidence {
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

// After an attack, the same question on the point it found: fresh answers on its adversarial say
// how often it is wrong again (the summary's "confirmed") and reveal randomness the endpoint did
// not disclose (summary.ts, campaign.ts).

/** Fresh answers on one point: how many were asked, how many were not the original label, how many distinct labels. */
export interface FreshAnswers {
  answers: number;
  adversarial: number;
  distinctLabels: number;
}

/** What an rs-arena /v1 deployment discloses: random (a noise defense with σ > 0), deterministic (`none`), or null (undisclosed). */
export function disclosedRandomness(info: Pick<DeploymentInfo, 'defense' | 'smoothing'> | undefined): boolean | null {
  if (!info) return null;
  if (info.smoothing) return info.smoothing.sigma > 0;
  if (info.defense === 'none') return false;
  if (info.defense !== undefined) return true;
  return null;
}

/** Asks `x` `repeats` more times (one batch) and sums up the answers against `originalLabel`. */
export async function askAgain(oracle: Oracle, x: Float32Array, repeats: number, originalLabel: number): Promise<FreshAnswers> {
  const batch = new Float32Array(x.length * repeats);
  for (let i = 0; i < repeats; i++) batch.set(x, i * x.length);
  const labels = await oracle.predict(batch, repeats);
  return { answers: repeats, adversarial: labels.filter((l) => l >= 0 && l !== originalLabel).length, distinctLabels: new Set(labels).size };
}

/**
 * Fresh answers that prove the endpoint random: one point answered with two labels, or a point
 * that was answered adversarial (where the attack found it) now answered with the original label.
 */
export function showsRandomness(fresh: FreshAnswers, wasAdversarial = true): boolean {
  return fresh.distinctLabels > 1 || (wasAdversarial && fresh.adversarial < fresh.answers);
}
