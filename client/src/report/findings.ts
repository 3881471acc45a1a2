// The paper's findings, checked against our data: each with the numbers that decide it and a
// verdict (reproduced, not reproduced, or not enough data).
import type { BinarySearchRecord } from '../experiments/records/binary-search.js';
import type { CertificationRecord } from '../experiments/records/certification.js';
import type { DistortionRecord } from '../experiments/records/distortion.js';
import { mean, median } from '../summary.js';
import { distortionToRadius } from './sections/certification.js';
import { summarizeDistortion } from './sections/distortion.js';

export interface Finding {
  id: string;
  paper: string;
  verdict: 'reproduced' | 'not reproduced' | 'partly' | 'no data';
  evidence: string;
}

const f3 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(3));
const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? a / b : null);

/** The attack the paper finds least affected by RS. */
const LEAST_AFFECTED = 'rays';

/**
 * `attacks`: the attacks compared, in the order the evidence lists them (the distortion config's);
 * default: those in the data, in order of appearance.
 */
export function findings(dist: DistortionRecord[], cert: CertificationRecord[], bs: BinarySearchRecord[], attacks?: string[]): Finding[] {
  const rows = summarizeDistortion(dist).filter((r) => r.oracle !== 'repeated');
  const compared = attacks ?? [...new Set(rows.map((r) => r.attack))];
  const out: Finding[] = [];

  // 1. Distortion ≫ certified radius.
  const ratios = distortionToRadius(cert, dist);
  if (ratios.length) {
    const byAttack = [...new Set(ratios.map((r) => r.attack))].map((a) => {
      const rs = ratios.filter((r) => r.attack === a);
      return { attack: a, median: median(rs.map((r) => r.medianRatio!).filter(Number.isFinite)), min: Math.min(...rs.map((r) => r.minRatio!)) };
    });
    const lowest = Math.min(...byAttack.map((b) => b.median ?? Infinity));
    out.push({
      id: 'distortion-vs-radius',
      paper: 'Attack distortions are at least 30 times larger than the certified radius (Fig. 4 vs Fig. 5).',
      verdict: lowest >= 30 ? 'reproduced' : lowest >= 10 ? 'partly' : 'not reproduced',
      evidence: byAttack.map((b) => `${b.attack}: median L2/R ${f3(b.median)} (smallest single image ${f3(b.min)})`).join('; '),
    });
  } else out.push({ id: 'distortion-vs-radius', paper: 'Attack distortions are at least 30 times larger than the certified radius.', verdict: 'no data', evidence: 'needs certification and distortion runs on the same model and σ' });

  // 2. P_a barely matters.
  const pairs: number[] = [];
  const pairText: string[] = [];
  for (const r of rows.filter((r) => r.Pa === 0.8)) {
    const base = rows.find((b) => b.model === r.model && b.sigma === r.sigma && b.n === r.n && b.attack === r.attack && b.Pa === 0.5);
    const q = ratio(r.medianL2, base?.medianL2 ?? null);
    if (q !== null) {
      pairs.push(q);
      if (pairText.length < 6) pairText.push(`${r.attack} ${r.model} σ=${r.sigma} n=${r.n}: ${f3(base!.medianL2)} → ${f3(r.medianL2)}`);
    }
  }
  out.push(
    pairs.length
      ? {
          id: 'pa-barely-matters',
          paper: 'Attacks are not disturbed by the level P_a: being 80% adversarial only moves the adversarial a little further.',
          verdict: median(pairs)! <= 1.3 ? 'reproduced' : 'not reproduced',
          evidence: `median L2 at P_a = 0.8 ÷ at P_a = 0.5: median ${f3(median(pairs))} over ${pairs.length} settings (range ${f3(Math.min(...pairs))}–${f3(Math.max(...pairs))}); e.g. ${pairText.join('; ')}`,
        }
      : { id: 'pa-barely-matters', paper: 'Attacks are not disturbed by the level P_a.', verdict: 'no data', evidence: 'needs runs at P_a = 0.5 and 0.8' },
  );

  // 3. A large σ does not buy robustness, but costs accuracy (standard model, largest n, P_a = 0.5).
  const std = rows.filter((r) => r.model === rows.find((x) => x.sigma > 0)?.model && r.sigma > 0 && (r.Pa === 0.5 || r.Pa === null));
  const nMax = Math.max(0, ...std.map((r) => r.n));
  const sigmas = [...new Set(std.map((r) => r.sigma))].sort((a, b) => a - b);
  if (sigmas.length >= 2) {
    const at = (s: number) => std.filter((r) => r.sigma === s && r.n === nMax);
    const lo = at(sigmas[0]);
    const hi = at(sigmas.at(-1)!);
    const accLo = mean(lo.map((r) => r.accuracy))!;
    const accHi = mean(hi.map((r) => r.accuracy))!;
    const l2Gain = median(hi.map((h) => ratio(h.medianL2, lo.find((l) => l.attack === h.attack)?.medianL2 ?? null)).filter((x): x is number => x !== null));
    out.push({
      id: 'large-sigma',
      paper: 'A large σ does not robustify the network, whereas it spoils its accuracy; a small σ is enough.',
      verdict: accHi < accLo && (l2Gain ?? Infinity) < 1.5 ? 'reproduced' : accHi < accLo ? 'partly' : 'not reproduced',
      evidence: `${lo[0]?.model}, n = ${nMax}: σ ${sigmas[0]} → ${sigmas.at(-1)}: accuracy ${f3(accLo)} → ${f3(accHi)}; median L2 ×${f3(l2Gain)} (${hi.map((h) => `${h.attack} ${f3(lo.find((l) => l.attack === h.attack)?.medianL2)} → ${f3(h.medianL2)}`).join(', ')})`,
    });
  } else out.push({ id: 'large-sigma', paper: 'A large σ does not robustify the network, whereas it spoils its accuracy.', verdict: 'no data', evidence: 'needs several σ' });

  // 4. Fewer samples make attacks harder (larger distortion at small n).
  const nEffects: string[] = [];
  const gains: number[] = [];
  for (const r of rows.filter((r) => r.sigma > 0 && r.n === Math.min(...rows.filter((x) => x.n > 1).map((x) => x.n)) && (r.Pa === 0.5))) {
    const big = rows.find((b) => b.model === r.model && b.sigma === r.sigma && b.attack === r.attack && b.Pa === 0.5 && b.n === Math.max(...rows.filter((x) => x.model === r.model && x.sigma === r.sigma).map((x) => x.n)));
    const q = ratio(r.medianL2, big?.medianL2 ?? null);
    if (q !== null && big && big.n !== r.n) {
      gains.push(q);
      nEffects.push(`${r.attack} ${r.model} σ=${r.sigma}: n=${r.n} ${f3(r.medianL2)} vs n=${big.n} ${f3(big.medianL2)}`);
    }
  }
  out.push(
    gains.length
      ? {
          id: 'fewer-samples',
          paper: 'Robustness against all three attacks is better with fewer samples: a noisier boundary jeopardizes the attacks.',
          verdict: gains.filter((g) => g > 1).length >= Math.ceil(0.75 * gains.length) ? 'reproduced' : gains.some((g) => g > 1) ? 'partly' : 'not reproduced',
          evidence: `median L2 at small n ÷ at large n: ${gains.map(f3).join(', ')} (${nEffects.slice(0, 6).join('; ')})`,
        }
      : { id: 'fewer-samples', paper: 'Robustness is better with fewer samples.', verdict: 'no data', evidence: 'needs several n' },
  );

  // 5. RayS is the least affected by RS.
  const effect = (attack: string) => {
    const qs = rows
      .filter((r) => r.attack === attack && r.sigma > 0 && r.Pa === 0.5)
      .map((r) => ratio(r.medianL2, rows.find((b) => b.attack === attack && b.model === r.model && b.sigma === 0)?.medianL2 ?? null))
      .filter((x): x is number => x !== null);
    return qs.length ? median(qs) : null;
  };
  const effects = compared.map((a) => ({ attack: a, gain: effect(a) }));
  const known = effects.filter((e) => e.gain !== null);
  const least = effects.find((e) => e.attack === LEAST_AFFECTED);
  out.push(
    known.length >= 2 && least && least.gain !== null
      ? {
          id: 'rays-least-affected',
          paper: 'RayS is the least affected by RS (the binary search is not crucial to its convergence).',
          verdict: known.every((e) => e.attack === LEAST_AFFECTED || e.gain! >= least.gain!) ? 'reproduced' : 'not reproduced',
          evidence: `median L2 under RS ÷ without RS, same model: ${known.map((e) => `${e.attack} ×${f3(e.gain)}`).join(', ')}`,
        }
      : { id: 'rays-least-affected', paper: 'RayS is the least affected by RS.', verdict: 'no data', evidence: 'needs the same model with and without RS' },
  );

  // 6. The binary search spreads with small n.
  if (bs.length >= 2) {
    const spread = bs
      .map((r) => {
        const s = r.outputs.slice().sort((a, b) => a - b);
        return { n: r.n, iqr: s[Math.floor(0.75 * (s.length - 1))] - s[Math.floor(0.25 * (s.length - 1))] };
      })
      .sort((a, b) => a.n - b.n);
    const decreasing = spread.every((s, i) => i === 0 || s.iqr <= spread[i - 1].iqr * 1.1);
    out.push({
      id: 'binary-search-spread',
      paper: 'Under RS the output of a binary search is spread out; it concentrates on the boundary only for large n (Fig. 3).',
      verdict: decreasing && spread[0].iqr > spread.at(-1)!.iqr ? 'reproduced' : 'not reproduced',
      evidence: `interquartile range of the output distance: ${spread.map((s) => `n=${s.n} ${f3(s.iqr)}`).join(', ')}`,
    });
  } else out.push({ id: 'binary-search-spread', paper: 'The binary search spreads with small n.', verdict: 'no data', evidence: 'needs the binary-search experiment' });
  return out;
}
