// The paper's formulas, pinned to SciPy 1.10.1 values (python3-scipy, /usr/bin/python3), and to the
// tables of ../shared/reference/attacks-and-smoothing.md §1.1 and §5.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  certifiedRadius,
  maxCertifiableRadius,
  nTilde,
  levelQuantile,
  eq5Threshold,
  eq6Bound,
  probMajorityWrong,
  shortcutThreshold,
  shortcutPassProbability,
  clopperPearsonLower,
  betaInc,
} from '@rs-arena/shared/stats';

function close(got: number, expected: number, what: string, tol = 1e-10): void {
  const rel = got === expected ? 0 : Math.abs(got - expected) / Math.abs(expected);
  assert.ok(rel <= tol, `${what}: got ${got}, expected ${expected} (relative error ${rel})`);
}

test('eq. (5): I⁻¹_Pa(ñ, ñ) — scipy.special.betaincinv(1 + n//2, 1 + n//2, Pa)', () => {
  const table: [number, number, number][] = [
    [10, 0.8, 0.6221349270230294],
    [10, 0.9, 0.6822811810604006],
    [50, 0.8, 0.558435789108225],
    [50, 0.9, 0.5885795765366737],
    [100, 0.8, 0.541695882711443],
    [100, 0.9, 0.5633453238593767],
    [1000, 0.8, 0.5132948790949695],
    [1000, 0.9, 0.5202396288409495],
  ];
  for (const [n, Pa, e] of table) {
    close(levelQuantile(n, Pa), e, `I⁻¹ n=${n} Pa=${Pa}`);
    close(eq5Threshold(n, Pa), 1 - e, `eq5 n=${n} Pa=${Pa}`);
  }
  for (const n of [10, 50, 100, 1000]) close(levelQuantile(n, 0.5), 0.5, `Pa=½, n=${n}`, 1e-12);
  assert.equal(nTilde(10), 6);
  assert.equal(nTilde(11), 6);
  // The meaning of I⁻¹: a per-vote error rate at which a majority of the odd 2ñ−1 votes errs w.p. Pa.
  close(betaInc(levelQuantile(100, 0.8), 51, 51), 0.8, 'I(I⁻¹)', 1e-12);
});

// scipy.stats.norm.ppf(scipy.special.betaincinv(6, 6, 0.8)) = 0.3110927060668204 (n = 10) and
// (51, 51, 0.8) = 0.10470709164845908 (n = 100); the reference table rounds 0.25·0.311 to 0.078.
test('eq. (6) adds σ·Φ⁻¹(I⁻¹_Pa(ñ, ñ)) to the certified radius', () => {
  close(eq6Bound(0.5, 0.25, 10, 0.8), 0.5 + 0.25 * 0.3110927060668204, 'eq6 n=10');
  close(eq6Bound(0.1, 0.05, 100, 0.8), 0.1 + 0.05 * 0.10470709164845908, 'eq6 n=100');
  close(eq6Bound(0.3, 0.15, 50, 0.5), 0.3, 'Pa = ½ adds nothing', 1e-12);
});

test('maximum certifiable radius: scipy.stats.norm.ppf(0.001 ** (1/n))', () => {
  const table: [number, number][] = [
    [100, 1.5004750241206364],
    [1000, 2.4632626147808114],
    [10000, 3.1985775147383384],
    [100000, 3.8114565633899145],
  ];
  for (const [n, e] of table) close(maxCertifiableRadius(1, n, 0.001), e, `n=${n}`);
  close(maxCertifiableRadius(0.25, 100, 0.001), 0.375, 'reference: 0.375 at σ = 0.25', 1e-3);
});

test('certified radius σΦ⁻¹(p): 0.25·norm.ppf(beta.ppf(0.001, 99000, 1001)) = 0.5724999888034416', () => {
  close(certifiedRadius(0.25, clopperPearsonLower(99000, 100000, 0.001)), 0.5724999888034416, 'radius');
  assert.equal(certifiedRadius(0.25, 0.5), 0);
  assert.equal(certifiedRadius(0.25, 0.3), 0);
});

test("the paper's shortcut: ⌈n·Pa⌉ wrong votes; pass probability scipy.stats.binom.sf(ceil(n*Pa)-1, n, 0.6)", () => {
  assert.equal(shortcutThreshold(10, 0.8), 8);
  assert.equal(shortcutThreshold(50, 0.8), 40);
  assert.equal(shortcutThreshold(100, 0.5), 50);
  assert.equal(shortcutThreshold(7, 0.5), 4);
  const table: [number, number, number][] = [
    [10, 0.8, 0.16728975359999992],
    [10, 0.5, 0.8337613824],
    [50, 0.8, 0.0021971447572466827],
    [50, 0.5, 0.9426562394577995],
    [100, 0.8, 1.641187790212209e-5],
    [100, 0.5, 0.9832383134968385],
  ];
  for (const [n, Pa, e] of table) close(shortcutPassProbability(0.6, n, Pa), e, `n=${n} Pa=${Pa}`);
});

test('probability that the majority errs: scipy.stats.binom.sf(n//2, n, p)', () => {
  close(probMajorityWrong(0.4, 11), 0.24650186752000003, 'n=11');
  close(probMajorityWrong(0.45, 100), 0.1345762131880525, 'n=100 (a tie is not wrong)');
});

test('bad arguments throw RangeError', () => {
  assert.throws(() => certifiedRadius(-1, 0.9), /sigma must be/);
  assert.throws(() => nTilde(0), /n must be a positive integer/);
  assert.throws(() => eq5Threshold(10, 1.2), /Pa must be in \[0, 1\]/);
  assert.throws(() => maxCertifiableRadius(0.25, 100, 0), /alpha/);
});
