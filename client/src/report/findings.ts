// The paper's findings, checked against our data: each decided by a statistic with its 95% interval
// (statistics.ts): comparisons paired on the images both cells attacked, shares with
// Clopper-Pearson intervals. A finding is established only when its interval excludes the null
// (or lies wholly past the paper's stated bound), contradicted when it lies wholly on the other
// side, otherwise not established, and every finding says on how many images.
import type { BinarySearchRecord } from '../experiments/records/binary-search.js';
import type { CertificationRecord } from '../experiments/records/certification.js';
import type { DirectionRecord } from '../experiments/records/direction.js';
import { firstCrossing } from '../experiments/geometry.js';
import type { DistortionRecord } from '../experiments/records/distortion.js';
import { quantile } from '@rs-arena/shared/stats';
import { mean, median } from '../summary.js';
import { type Claim, type Verdict, bootstrap, bootstrapEach, combined, decide, fmtPaired, fmtRatio, fmtShare, pairOn, paired, share } from './statistics.js';

export interface Finding {
  id: string;
  /** "paper": a claim of Maho, Furon & Le Merrer (2022); "project": a target rs-arena set itself. */
  source: 'paper' | 'project';
  claim: string;
  verdict: Verdict;
  /** Images behind the decision (the smallest number any deciding cell rests on). */
  n: number;
  /** The statistic that decides, and the bound its interval is compared with. */
  test: string;
  evidence: string;
}

/** findings.json: the paper's claims apart from the project's own targets. */
export interface FindingsFile {
  method: string;
  paper: Finding[];
  project: Finding[];
}

/** "not established (n = 4)", or the verdict as is. */
export const verdictText = (f: Pick<Finding, 'verdict' | 'n'>) => (f.verdict === 'not established' ? `not established (n = ${f.n})` : f.verdict);

/** The attack the paper finds least affected by RS. */
const LEAST_AFFECTED = 'rays';
/** "A little further": the largest ratio of means P_a = 0.8 ÷ 0.5 read as the paper's "a little" (stated in the claim). */
const PA_LITTLE = 1.3;
/** "A large σ does not robustify": the distortion grows by less than this factor. */
const SIGMA_GAIN = 1.5;
/** "The same robustness": the ratio of mean L2 lies within [1/SAME, SAME] (the margin PA_LITTLE reads as "a little"). */
const SAME = PA_LITTLE;
/** A noise-trained model is named `<standard model>-randtrain` (models/manifest.json). */
const NOISE_TRAINED = '-randtrain';

/** The σ the accuracy experiment's search found for each model and accuracy cost (sections/accuracy.ts). */
export interface SigmaByCost {
  model: string;
  drop: number;
  sigma: number;
}

/** Each noise-trained model's σ beside its standard model's σ at the same accuracy cost. */
function noiseTrainedPairs(costs: SigmaByCost[]): { rand: SigmaByCost; std: SigmaByCost }[] {
  return costs
    .filter((c) => c.model.endsWith(NOISE_TRAINED))
    .flatMap((rand) => {
      const std = costs.find((c) => c.model === rand.model.slice(0, -NOISE_TRAINED.length) && c.drop === rand.drop);
      return std ? [{ rand, std }] : [];
    });
}

const f3 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(3));
const setting = (r: Pick<DistortionRecord, 'model' | 'sigma'>) => (r.sigma === 0 ? `${r.model} (no RS)` : `${r.model} σ=${r.sigma}`);
/** The final L2 of a run on an image it attacked and broke; null otherwise. */
const l2Of = (r: DistortionRecord) => (!r.misclassified && r.success && r.l2 !== null ? r.l2 : null);

type Cell = { model: string; sigma: number; n: number; Pa: number | null; attack: string };
const cellKey = (c: Cell) => `${c.model}|${c.sigma}|${c.n}|${c.Pa}|${c.attack}`;

/** A paired ratio per cell: its verdict against `claim`, n and one line of evidence. */
function pairedCells(items: { label: string; a: DistortionRecord[]; b: DistortionRecord[] }[], claim: Claim) {
  return items
    .map(({ label, a, b }) => ({ label, c: paired(pairOn(a, b, (r) => r.image, l2Of)) }))
    .filter((x) => x.c !== null)
    .map(({ label, c }) => ({ verdict: decide(c!.ratioOfMeans, claim), n: c!.images, line: `${label}: ${fmtPaired(c!)}` }));
}

/**
 * Where the ray x0 → xa crosses the smoothed classifier's frontier (π0 = 1/2, linearly between
 * measured points), in units of the base boundary (t = 1: where the base model's answer changes);
 * the largest t measured when π0 stays above 1/2 (the crossing lies beyond it); null when g_σ is
 * already wrong at x0.
 */
function frontierCrossing(r: Pick<DirectionRecord, 't' | 'pi0'>): number | null {
  if (!(r.pi0[0] > 0.5)) return null;
  return firstCrossing(r.t, r.pi0, 0.5) ?? r.t.at(-1)!;
}

export function findings(
  dist: DistortionRecord[],
  cert: CertificationRecord[],
  bs: BinarySearchRecord[],
  attacks?: string[],
  dir: DirectionRecord[] = [],
  costs: SigmaByCost[] = [],
): Finding[] {
  const rows = dist.filter((r) => r.oracle !== 'repeated');
  const cells = new Map<string, DistortionRecord[]>();
  for (const r of rows) cells.set(cellKey(r), [...(cells.get(cellKey(r)) ?? []), r]);
  const cell = (c: Cell) => cells.get(cellKey(c)) ?? [];
  const heads = [...cells.values()].map((rs) => rs[0]);
  const compared = attacks ?? [...new Set(rows.map((r) => r.attack))];
  const out: Finding[] = [];
  const noData = (id: string, claim: string, why: string): Finding => ({ id, source: 'paper', claim, verdict: 'no data', n: 0, test: '–', evidence: why });
  /** A claim decided cell by cell: the cells' verdicts combined, one line of evidence each; without a cell, no data and why. */
  const cellFinding = (id: string, claim: string, cells: { verdict: Verdict; n: number; line: string }[], test: string, why: string): Finding =>
    cells.length ? { id, source: 'paper', claim, ...combined(cells), test, evidence: cells.map((c) => c.line).join('; ') } : noData(id, claim, why);

  // 1. Distortion ≫ certified radius: per attack, the median over images of L2 ÷ R, above 30.
  {
    const claim = 'Attack distortions are at least 30 times larger than the certified radius (Fig. 4 vs Fig. 5).';
    const radius = new Map(cert.filter((r) => r.correct && r.radius > 0).map((r) => [`${r.model}|${r.sigma}|${r.image}`, r.radius]));
    const per = compared
      .map((attack) => {
        const ratios = rows
          .filter((d) => d.attack === attack && d.sigma > 0 && l2Of(d) !== null && radius.has(`${d.model}|${d.sigma}|${d.image}`))
          .map((d) => ({ image: d.image, v: l2Of(d)! / radius.get(`${d.model}|${d.sigma}|${d.image}`)! }));
        if (!ratios.length) return null;
        const iv = bootstrap(ratios, (s) => median(s.map((x) => x.v)) ?? NaN, { cluster: (x) => x.image });
        return { attack, iv, pairs: ratios.length, verdict: decide(iv, { side: 'above', bound: 30 }) };
      })
      .filter((x) => x !== null);
    out.push(
      per.length
        ? {
            id: 'distortion-vs-radius',
            source: 'paper',
            claim,
            ...combined(per.map((p) => ({ verdict: p.verdict, n: p.iv.clusters }))),
            test: 'per attack, the median of L2 ÷ R over (image, setting) pairs, bootstrap over images; established when its interval lies above 30',
            evidence: per.map((p) => `${p.attack}: median L2/R ${fmtRatio(p.iv).slice(1)} on ${p.iv.clusters} images (${p.pairs} image-settings)`).join('; '),
          }
        : noData('distortion-vs-radius', claim, 'needs certification and distortion runs on the same model and σ'),
    );
  }

  // 2. P_a barely matters: per cell, mean L2 at P_a = 0.8 ÷ at 0.5 on the same images, below 1.3.
  {
    const claim = `Attacks are not disturbed by the level P_a: being 80% adversarial only moves the adversarial a little further (read here: mean L2 at P_a = 0.8 ÷ at 0.5 below ${PA_LITTLE}).`;
    const items = heads.filter((h) => h.Pa === 0.8).map((h) => ({ label: `${h.attack} ${setting(h)} n=${h.n}`, a: cell({ ...h, Pa: 0.5 }), b: cell(h) }));
    const per = pairedCells(items, { side: 'below', bound: PA_LITTLE });
    const moved = pairedCells(items, { side: 'above', bound: 1 }).filter((p) => p.verdict === 'established').length;
    out.push(
      per.length
        ? {
            id: 'pa-barely-matters',
            source: 'paper',
            claim,
            ...combined(per),
            test: `per cell, the ratio of mean L2 (P_a = 0.8 ÷ 0.5) on the images both levels broke; established when every interval lies below ${PA_LITTLE}`,
            evidence: `P_a = 0.8 moves the adversarial further (interval above 1) in ${moved} of ${per.length} cells. ${per.map((p) => p.line).join('; ')}`,
          }
        : noData('pa-barely-matters', claim, 'needs runs at P_a = 0.5 and 0.8'),
    );
  }

  // 3. A large σ costs accuracy and buys little distortion (standard model, largest n, P_a = 0.5).
  {
    const claim = `A large σ does not robustify the network, whereas it spoils its accuracy (read here: accuracy drops from the smallest to the largest σ, and mean L2 grows by less than ×${SIGMA_GAIN}).`;
    const model = heads.find((h) => h.sigma > 0)?.model;
    const std = heads.filter((h) => h.model === model && h.sigma > 0 && (h.Pa === 0.5 || h.Pa === null));
    const sigmas = [...new Set(std.map((h) => h.sigma))].sort((a, b) => a - b);
    const nMax = Math.max(0, ...std.map((h) => h.n));
    if (sigmas.length >= 2) {
      const [lo, hi] = [sigmas[0], sigmas.at(-1)!];
      const attacksHere = [...new Set(std.filter((h) => h.n === nMax).map((h) => h.attack))];
      // Accuracy: per image, answered correctly at σ_lo minus at σ_hi (the first attack's runs carry it).
      const a0 = attacksHere[0];
      const correct = pairOn(
        cell({ model: model!, sigma: lo, n: nMax, Pa: 0.5, attack: a0 }),
        cell({ model: model!, sigma: hi, n: nMax, Pa: 0.5, attack: a0 }),
        (r) => r.image,
        (r) => (r.misclassified ? 0 : 1),
      );
      const drop = bootstrap(correct, (s) => s.reduce((t, p) => t + p.a - p.b, 0) / s.length, { cluster: (p) => p.image });
      const accVerdict = correct.length ? decide(drop, { side: 'above', bound: 0 }) : 'no data';
      const per = pairedCells(
        attacksHere.map((a) => ({
          label: `${a} σ ${lo} → ${hi}`,
          a: cell({ model: model!, sigma: lo, n: nMax, Pa: 0.5, attack: a }),
          b: cell({ model: model!, sigma: hi, n: nMax, Pa: 0.5, attack: a }),
        })),
        { side: 'below', bound: SIGMA_GAIN },
      );
      const accLo = share(correct.filter((p) => p.a === 1).length, correct.length);
      const accHi = share(correct.filter((p) => p.b === 1).length, correct.length);
      out.push({
        id: 'large-sigma',
        source: 'paper',
        claim,
        ...combined([{ verdict: accVerdict, n: correct.length }, ...per]),
        test: `accuracy drop paired on images (interval above 0) and, per attack, the ratio of mean L2 paired on images (interval below ${SIGMA_GAIN})`,
        evidence: `${model}, n = ${nMax}: accuracy ${fmtShare(accLo)} → ${fmtShare(accHi)}, drop ${f3(drop.value)} [${f3(drop.lo)}, ${f3(drop.hi)}] on ${correct.length} images; ${per.map((p) => p.line).join('; ')}`,
      });
    } else out.push(noData('large-sigma', claim, 'needs several σ'));
  }

  // 4. Fewer samples make attacks harder: mean L2 at the smallest n > 1 ÷ at the largest n, above 1.
  {
    const claim = 'Robustness against all three attacks is better with fewer samples: a noisier boundary jeopardizes the attacks.';
    const items: { label: string; a: DistortionRecord[]; b: DistortionRecord[] }[] = [];
    for (const h of heads.filter((h) => h.sigma > 0 && h.Pa === 0.5)) {
      const ns = heads.filter((x) => x.model === h.model && x.sigma === h.sigma && x.attack === h.attack && x.Pa === 0.5).map((x) => x.n);
      const small = Math.min(...ns.filter((n) => n > 1));
      const big = Math.max(...ns);
      if (h.n !== small || small === big) continue;
      // Labelled in the order of the line's "mean A → B" (the largest n, then the smallest), as the ratio is B ÷ A.
      items.push({ label: `${h.attack} ${setting(h)} n=${big} → n=${small}`, a: cell({ ...h, n: big }), b: cell(h) });
    }
    const per = pairedCells(items, { side: 'above', bound: 1 });
    out.push(
      per.length
        ? {
            id: 'fewer-samples',
            source: 'paper',
            claim,
            ...combined(per),
            test: 'per cell, the ratio of mean L2 (smallest n > 1 ÷ largest n) on the images both broke; established when every interval lies above 1',
            evidence: per.map((p) => `${p.line} → ${p.verdict}`).join('; '),
          }
        : noData('fewer-samples', claim, 'needs several n'),
    );
  }

  // 5. RayS is the least affected: per image, its L2 gain under RS ÷ another attack's gain, below 1.
  {
    const claim = 'RayS is the least affected by RS (the binary search is not crucial to its convergence).';
    const gains = (attack: string) => {
      const out = new Map<string, number>();
      for (const h of heads.filter((h) => h.attack === attack && h.sigma > 0 && h.Pa === 0.5)) {
        const clean = new Map(cell({ model: h.model, sigma: 0, n: 1, Pa: null, attack }).map((r) => [r.image, l2Of(r)]));
        for (const r of cell(h)) {
          const base = clean.get(r.image);
          if (base && l2Of(r) !== null) out.set(`${h.model}|${h.sigma}|${h.n}|${r.image}`, l2Of(r)! / base);
        }
      }
      return out;
    };
    const rays = gains(LEAST_AFFECTED);
    const per = compared
      .filter((a) => a !== LEAST_AFFECTED)
      .map((other) => {
        const g = gains(other);
        const pairs = [...rays].filter(([k]) => g.has(k)).map(([k, v]) => ({ image: Number(k.split('|').at(-1)), a: g.get(k)!, b: v }));
        const c = paired(pairs);
        return c && { other, c, verdict: decide(c.ratioOfMeans, { side: 'below', bound: 1 }) };
      })
      .filter((x) => x !== null);
    out.push(
      per.length
        ? {
            id: 'rays-least-affected',
            source: 'paper',
            claim,
            ...combined(per.map((p) => ({ verdict: p.verdict, n: p.c.images }))),
            test: "per other attack, mean over (image, RS setting) of RayS's L2 gain under RS (L2 with RS ÷ without) ÷ the other attack's mean gain, same images, bootstrap over images; established when every interval lies below 1",
            evidence: per
              .map(
                (p) =>
                  `RayS gain ÷ ${p.other} gain: ${fmtRatio(p.c.ratioOfMeans)} (mean gain ${f3(p.c.meanB)} vs ${f3(p.c.meanA)}) on ${p.c.images} images, ${p.c.pairs} image-settings`,
              )
              .join('; '),
          }
        : noData('rays-least-affected', claim, 'needs the same model with and without RS'),
    );
  }

  // 6. The binary search spreads at small n: IQR of its output at the smallest n ÷ at the largest, above 1.
  {
    const claim = 'Under RS the output of a binary search is spread out; it concentrates on the boundary only for large n (Fig. 3).';
    const byImage = new Map<number, BinarySearchRecord[]>();
    for (const r of bs) byImage.set(r.image, [...(byImage.get(r.image) ?? []), r]);
    const per = [...byImage.values()]
      .filter((rs) => rs.length >= 2)
      .map((rs) => {
        rs.sort((a, b) => a.n - b.n);
        const [small, big] = [rs[0], rs.at(-1)!];
        const k = Math.min(small.outputs.length, big.outputs.length);
        const items = Array.from({ length: k }, (_, i) => ({ a: big.outputs[i], b: small.outputs[i] }));
        const iqr = (v: number[]) => quantile(v, 0.75) - quantile(v, 0.25);
        const iv = bootstrap(items, (s) => iqr(s.map((x) => x.b)) / iqr(s.map((x) => x.a)));
        return {
          image: small.image,
          small,
          big,
          k,
          iv,
          verdict: decide(iv, { side: 'above', bound: 1 }),
          all: rs.map((r) => `n=${r.n} ${f3(iqr(r.outputs))}`).join(', '),
        };
      });
    out.push(
      per.length
        ? {
            id: 'binary-search-spread',
            source: 'paper',
            claim,
            verdict: combined(per.map((p) => ({ verdict: p.verdict, n: 1 }))).verdict,
            n: per.length,
            test: "per image, the interquartile range of the search's output distance at the smallest n ÷ at the largest, bootstrap over the repeated searches; established when its interval lies above 1 (one image is one image: the n here counts images, not searches)",
            evidence: per.map((p) => `image ${p.image}, ${p.k} searches per n: IQR ${p.all}; n=${p.small.n} ÷ n=${p.big.n} ${fmtRatio(p.iv)}`).join('; '),
          }
        : noData('binary-search-spread', claim, 'needs the binary-search experiment at two n'),
    );
  }

  // 7. Fig. 1: along x0 → xa the smoothed frontier (π0 = 1/2) lies beyond the base model's, t* > 1.
  {
    const claim =
      "Along the direction x0 → xa from an adversarial xa on the base model's boundary, the frontier of the smoothed classifier (π0 = 1/2) is crossed after xa (Fig. 1: at ‖x − xa‖ ≈ 4.0 on ImageNet's ResNet50).";
    const per = dir
      .map((r) => ({ r, t: frontierCrossing(r) }))
      .filter((x): x is { r: DirectionRecord; t: number } => x.t !== null)
      .map(({ r, t }) => ({
        image: r.image,
        t,
        beyond: (t - 1) * r.l2,
        censored: t === r.t.at(-1) && r.pi0.at(-1)! > 0.5,
        setting: `${r.model} σ=${r.sigma}`,
      }));
    if (per.length) {
      const { t, beyond } = bootstrapEach(per, {
        t: (s) => median(s.map((x) => x.t)) ?? NaN,
        beyond: (s) => median(s.map((x) => x.beyond)) ?? NaN,
      });
      const after = share(per.filter((x) => x.t > 1).length, per.length);
      const censored = per.filter((x) => x.censored).length;
      out.push({
        id: 'fig1-frontier-beyond',
        source: 'paper',
        claim,
        verdict: decide(t, { side: 'above', bound: 1 }),
        n: per.length,
        test: "per image, t* = where π0 falls to 1/2 along the ray, in units of the base boundary (1 = xa); the median over images with its bootstrap interval; established when it lies above 1. The paper's 4.0 is an L2 distance on ImageNet's scale: the L2 beyond xa is given, not compared",
        evidence: `${[...new Set(per.map((x) => x.setting))].join(', ')}: median t* ${f3(t.value)} [${f3(t.lo)}, ${f3(t.hi)}] on ${per.length} image${per.length === 1 ? '' : 's'}; crossed after xa on ${fmtShare(after)}; median L2 beyond xa ${f3(beyond.value)} [${f3(beyond.lo)}, ${f3(beyond.hi)}] (per image ${per.map((x) => f3(x.beyond)).join(', ')})${censored ? `; ${censored} not crossed within the ray (counted at its end)` : ''}`,
      });
    } else out.push(noData('fig1-frontier-beyond', claim, 'needs the direction experiment (Fig. 1)'));
  }

  // 8 and 9. The noise-trained model at the same accuracy cost as the standard one (σ from the
  // accuracy experiment's search): as robust (within ×1.3), and against RayS less robust than the
  // standard model without RS.
  {
    const pairs = noiseTrainedPairs(costs);
    const same = `Under RS, the noise-trained model (RandTrain) is as robust as the standard model at the same accuracy cost (paper: RandTrain σ = 0.25 beside ResNet50 σ = 0.15, both about 12 points below clean; read here: mean L2 RandTrain ÷ standard within ×${f3(1 / SAME)} … ×${SAME} in every cell, σ per model from the accuracy experiment's search).`;
    const sameItems = pairs.flatMap(({ rand, std }) =>
      heads
        .filter((h) => h.model === rand.model && Math.abs(h.sigma - rand.sigma) < 1e-9)
        .map((h) => ({
          label: `${h.attack} cost ${rand.drop} (σ ${std.sigma} vs ${rand.sigma}) n=${h.n} Pa=${h.Pa}`,
          a: cell({ ...h, model: std.model, sigma: std.sigma }),
          b: cell(h),
        })),
    );
    const within = pairedCells(sameItems, { side: 'within', bound: SAME });
    out.push(
      cellFinding(
        'randtrain-same-robustness',
        same,
        within,
        `per cell (attack, n, P_a) at each accuracy cost, the ratio of mean L2 RandTrain ÷ standard on the images both broke; established when every interval lies within [${f3(1 / SAME)}, ${SAME}], contradicted when one lies wholly outside`,
        'needs the standard and the noise-trained model under RS at σ chosen by the same accuracy cost',
      ),
    );
    const rays =
      'Against RayS, the noise-trained model under RS is less robust than the standard model without RS (read here: mean L2 RandTrain with RS ÷ standard without below 1 in every cell).';
    const raysItems = pairs.flatMap(({ rand, std }) =>
      heads
        .filter((h) => h.attack === LEAST_AFFECTED && h.model === rand.model && Math.abs(h.sigma - rand.sigma) < 1e-9)
        .map((h) => ({
          label: `rays ${setting(h)} n=${h.n} Pa=${h.Pa} vs ${std.model} (no RS)`,
          a: cell({ model: std.model, sigma: 0, n: 1, Pa: null, attack: LEAST_AFFECTED }),
          b: cell(h),
        })),
    );
    const below = pairedCells(raysItems, { side: 'below', bound: 1 });
    out.push(
      cellFinding(
        'randtrain-rays-below-standard',
        rays,
        below,
        'per cell (RandTrain σ, n, P_a), the ratio of mean L2 of RayS on RandTrain with RS ÷ on the standard model without RS, on the images both broke; established when every interval lies below 1',
        'needs RayS on the standard model without RS and on the noise-trained model with RS',
      ),
    );
  }

  // 10. Fig. 4: at the same accuracy cost the noise-trained model certifies larger radii.
  {
    const claim =
      'At the same accuracy cost, the noise-trained model (RandTrain) certifies larger radii than the standard model under RS (Fig. 4: RandTrain σ = 0.25 beside ResNet50 σ = 0.15, both about 12 points below clean).';
    const radiusOf = (r: CertificationRecord) => (r.correct ? r.radius : 0);
    const per = noiseTrainedPairs(costs).flatMap(({ rand, std }) => {
      const of = (c: SigmaByCost) => cert.filter((r) => r.model === c.model && Math.abs(r.sigma - c.sigma) < 1e-9);
      const items = pairOn(of(std), of(rand), (r) => r.image, radiusOf);
      if (items.length === 0) return [];
      const iv = bootstrap(items, (s) => mean(s.map((p) => p.b))! / mean(s.map((p) => p.a))!, { cluster: (p) => p.image });
      const certified = (xs: number[]) => fmtShare(share(xs.filter((x) => x > 0).length, xs.length));
      return [
        {
          verdict: decide(iv, { side: 'above', bound: 1 }),
          n: items.length,
          line: `cost ${rand.drop} (${std.model} σ=${std.sigma} vs ${rand.model} σ=${rand.sigma}): mean certified radius ${f3(mean(items.map((p) => p.a)))} → ${f3(mean(items.map((p) => p.b)))}, ratio ${fmtRatio(iv)} on ${items.length} images; certified correctly ${certified(items.map((p) => p.a))} → ${certified(items.map((p) => p.b))}`,
        },
      ];
    });
    out.push(
      cellFinding(
        'fig4-randtrain-larger-radius',
        claim,
        per,
        'per accuracy cost, the ratio of mean certified radius (0 where CERTIFY abstains or is wrong) RandTrain ÷ standard on the same images, bootstrap over images; established when every interval lies above 1',
        'needs certification of the standard and the noise-trained model at σ chosen by the same accuracy cost',
      ),
    );
  }

  // 11. The paper's shortcut as a simulation of level P_a: the final points, assessed by fresh votes.
  {
    const claim =
      "The paper's shortcut simulates an attacker at level P_a: a point counted adversarial when ⌈n·P_a⌉ of its n micro-decisions are wrong is adversarial at level P_a, P[g_{σ,n}(x) ≠ y] ≥ P_a by eq. (4) (§4.1, Protocol; read here: at least 90% of the final points at level by fresh votes, per n and P_a).";
    const assessed = rows.filter((r) => r.oracle === 'shortcut' && l2Of(r) !== null && r.assessment);
    const levels = [...new Set(assessed.map((r) => `${r.n}|${r.Pa}`))].map((k) => k.split('|').map(Number)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const per = levels.map(([n, Pa]) => {
      const runs = assessed.filter((r) => r.n === n && r.Pa === Pa);
      const p = runs.map((r) => r.assessment!.probAdversarial);
      const s = share(p.filter((x) => x >= Pa).length, p.length);
      const images = new Set(runs.map((r) => r.image)).size;
      return {
        verdict: decide(s, { side: 'above', bound: 0.9 }),
        n: images,
        line: `n=${n}, P_a=${Pa}: ${fmtShare(s)} of ${p.length} runs (${images} images), median P[g ≠ y] ${f3(median(p))}`,
      };
    });
    out.push(
      cellFinding(
        'shortcut-at-level',
        claim,
        per,
        "per (n, P_a), pooling settings and attacks, the share of the shortcut's final points whose fresh-vote probability of being adversarial (eq. 4) reaches P_a, with its Clopper-Pearson interval; established when every interval lies above 0.9, contradicted when one lies below",
        'needs shortcut runs with assessed final points',
      ),
    );
  }
  return out;
}
