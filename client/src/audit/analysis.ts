// What an audit concludes from its attack records, as AutoAttack does for white-box evaluation:
// per image the best attacker of the battery (the minimum over attackers), then at each distortion
// bound ε the share of images broken within q queries, with Clopper-Pearson intervals, the queries
// an attacker needs for 10/50/90% success, and the largest per-key budget that keeps success at or
// under a chosen rate. Pure functions of the records (no I/O), so the numbers can be checked by hand.
//
// "Broken at ε within q queries" reads the attack's (queries, best L2) history: its first point at
// L2 ≤ ε was found after q queries. The attacks are anytime algorithms, so a run with budget q would
// have followed the same path up to q queries (the noise-aware attacks keep a confirmation reserve
// that depends on the budget: the budget check on held-out images is what settles it).
import { clopperPearsonInterval, clopperPearsonUpper } from '@rs-arena/shared/stats';
import type { AttackRecord } from '../record.js';

const SUCCESS_LEVELS = [0.1, 0.5, 0.9] as const;

export interface ImageVerdict {
  image: string;
  trueLabel: number | null;
  /** The endpoint's answer on the clean image (the audit's own query). */
  cleanLabel: number;
  /** Answered correctly: attacked. */
  correct: boolean;
  /** Per ε (same order as the audit's): queries the best attacker needed, null when none reached it. */
  queriesNeeded: (number | null)[];
  /** Per ε: which attacker needed them. */
  bestAttacker: (string | null)[];
  /** The smallest L2 any attacker of the battery reached (null: none found an adversarial). */
  bestL2: number | null;
  bestL2Attacker: string | null;
}

interface CurvePoint {
  queries: number;
  broken: number;
  rate: number;
  interval: [number, number];
}

export interface EpsilonSummary {
  epsilon: number;
  /** Images attacked (answered correctly). */
  attacked: number;
  /** Broken within the audit's budget, with a 95% Clopper-Pearson interval. */
  broken: number;
  successRate: number | null;
  interval: [number, number] | null;
  /** Queries for 10/50/90% success (null: not reached within the budget). */
  queriesFor: { level: number; queries: number | null }[];
  /** The largest per-key budget with success at or under the chosen rate on these images. */
  recommendedBudget: { budget: number; atLeast: boolean; broken: number; rate: number | null; interval: [number, number] | null };
  /**
   * The largest budget whose success is at or under the rate with 95% confidence (the one-sided
   * Clopper-Pearson upper bound of the share broken ≤ rate), null when no budget is: too few images
   * (with none broken of n, the bound is 1 − 0.05^(1/n): n ≥ 29 for 10%) or too fragile ones.
   */
  confidentBudget: { budget: number; atLeast: boolean; broken: number; upper: number } | null;
  curve: CurvePoint[];
}

/** The first query count at which the run's best L2 was ≤ ε; 0-cost for a clean image the attacker saw answered wrongly. */
export function queriesToReach(r: AttackRecord, epsilon: number): number | null {
  if (r.misclassified) return r.queries.total;
  for (const [q, l2] of r.history) if (l2 <= epsilon) return q;
  return null;
}

export function imageVerdicts(
  images: { id: string; trueLabel: number | null; cleanLabel: number }[],
  records: AttackRecord[],
  epsilons: readonly number[],
): ImageVerdict[] {
  return images.map((img) => {
    const mine = records.filter((r) => r.image === img.id);
    const correct = img.trueLabel === null || img.cleanLabel === img.trueLabel;
    const queriesNeeded: (number | null)[] = [];
    const bestAttacker: (string | null)[] = [];
    for (const eps of epsilons) {
      let best: number | null = null;
      let who: string | null = null;
      for (const r of mine) {
        const q = queriesToReach(r, eps);
        if (q !== null && (best === null || q < best)) [best, who] = [q, r.attack];
      }
      queriesNeeded.push(correct ? best : 0);
      bestAttacker.push(correct ? who : null);
    }
    let bestL2: number | null = null;
    let bestL2Attacker: string | null = null;
    for (const r of mine) if (r.l2 !== null && (bestL2 === null || r.l2 < bestL2)) [bestL2, bestL2Attacker] = [r.l2, r.attack];
    return { image: img.id, trueLabel: img.trueLabel, cleanLabel: img.cleanLabel, correct, queriesNeeded, bestAttacker, bestL2, bestL2Attacker };
  });
}

export function summarizeEpsilon(verdicts: ImageVerdict[], epsilonIndex: number, epsilon: number, budget: number, targetRate: number): EpsilonSummary {
  const attacked = verdicts.filter((v) => v.correct);
  const n = attacked.length;
  const needs = attacked.map((v) => v.queriesNeeded[epsilonIndex] ?? Infinity).sort((a, b) => a - b);
  const brokenWithin = (q: number) => needs.filter((x) => x <= q).length;
  const point = (q: number): CurvePoint => {
    const k = brokenWithin(q);
    return { queries: q, broken: k, rate: n ? k / n : 0, interval: n ? clopperPearsonInterval(k, n) : [0, 1] };
  };
  // The curve steps at each image's need; a log grid between keeps the band drawn smoothly.
  const grid = new Set<number>([1, budget, ...needs.filter((x) => Number.isFinite(x) && x >= 1)]);
  for (let i = 0; i <= 40; i++) grid.add(Math.max(1, Math.round(budget ** (i / 40))));
  const curve = [...grid].sort((a, b) => a - b).map(point);
  const queriesFor = SUCCESS_LEVELS.map((level) => {
    const idx = Math.ceil(level * n) - 1;
    const q = n && idx < needs.length ? needs[Math.max(0, idx)] : Infinity;
    return { level, queries: Number.isFinite(q) ? q : null };
  });
  // With budget B at most m = ⌊rate·n⌋ images may break: B is one below the (m+1)-th smallest need.
  const m = Math.floor(targetRate * n + 1e-9);
  const next = m < needs.length ? needs[m] : Infinity;
  const atLeast = !Number.isFinite(next) || next > budget;
  const recommended = atLeast ? budget : Math.max(0, next - 1);
  const at = point(recommended);
  const broken = brokenWithin(budget);
  // The most images that may break with the upper bound still at or under the rate.
  let kMax = -1;
  while (n > 0 && kMax + 1 <= n && clopperPearsonUpper(kMax + 1, n, 0.05) <= targetRate) kMax++;
  let confidentBudget: EpsilonSummary['confidentBudget'] = null;
  if (kMax >= 0) {
    const first = kMax < needs.length ? needs[kMax] : Infinity;
    const capped = !Number.isFinite(first) || first > budget;
    const b = capped ? budget : Math.max(0, first - 1);
    const k = brokenWithin(b);
    confidentBudget = { budget: b, atLeast: capped, broken: k, upper: clopperPearsonUpper(k, n, 0.05) };
  }
  return {
    epsilon,
    attacked: n,
    broken,
    successRate: n ? broken / n : null,
    interval: n ? clopperPearsonInterval(broken, n) : null,
    queriesFor,
    recommendedBudget: { budget: recommended, atLeast, broken: at.broken, rate: n ? at.rate : null, interval: n ? at.interval : null },
    confidentBudget,
    curve,
  };
}
