// Is the endpoint's answer random? Against randomized smoothing (or any randomized defense) "the
// attack found an adversarial" means "one answer was wrong": asked again, the same point may get
// its true label back. Known when the endpoint discloses its defense; otherwise detected by asking
// the same points a few more times. The one place this probe lives: the attack summary uses it
// on the adversarials it found (their fresh answers also say how often they are wrong), and an
// endpoint audit can run it on any points.
import type { DeploymentInfo } from '@rs-arena/shared/api';
import type { Oracle } from './oracle.js';

/** Fresh answers on one point: how many were asked, how many were not the original label, how many distinct labels. */
export interface FreshAnswers {
  answers: number;
  adversarial: number;
  distinctLabels: number;
}

/** What the endpoint discloses: random (a noise defense with σ > 0), deterministic (`none`), or null (undisclosed). */
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

/** The probe on its own: asks each point `repeats` times; true as soon as one point gets two different answers. */
export async function probeRandomness(oracle: Oracle, points: Float32Array[], repeats = 5): Promise<boolean> {
  for (const x of points) if ((await askAgain(oracle, x, repeats, -2)).distinctLabels > 1) return true;
  return false;
}
