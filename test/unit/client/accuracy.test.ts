// The σ search by accuracy cost, replayed from records, and Fig. 5's measured accuracy of g_{σ,n}.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { probMajorityWrong } from '@rs-arena/shared/stats';
import { type AccuracyRecord, accuracyKey, pCorrect, sigmaSearch, smoothedAccuracy } from '../../../client/src/experiments/records/accuracy.js';
import { measuredAccuracy } from '../../../client/src/report/sections/distortion.js';

test('the bisection finds the σ whose accuracy cost crosses the drop, and stops where a step is missing', () => {
  // Accuracy 0.9 clean, falling linearly by 0.6 per unit σ: a cost of 0.03 at σ = 0.05, 0.12 at σ = 0.2.
  const acc = (s: number) => 0.9 - 0.6 * s;
  for (const [drop, truth] of [
    [0.03, 0.05],
    [0.12, 0.2],
  ] as const) {
    const r = sigmaSearch('m', drop, { sigmaMax: 1, steps: 10 }, acc);
    assert.equal(r.next, null);
    assert.equal(r.steps.length, 10);
    assert.ok(r.bracket[0] <= truth && truth <= r.bracket[1], `${drop}: [${r.bracket}] around ${truth}`);
    assert.ok(Math.abs(r.sigma! - truth) <= 1 / 2 ** 10, `${r.sigma} vs ${truth}`);
  }
  // Not measured yet: the search names the next σ to measure (clean first, then the midpoints).
  assert.equal(sigmaSearch('m', 0.03, { sigmaMax: 1, steps: 8 }, () => null).next, 0);
  const measured = new Map<number, number>([
    [0, 0.9],
    [0.5, 0.6],
  ]);
  const partial = sigmaSearch('m', 0.03, { sigmaMax: 1, steps: 8 }, (s) => measured.get(s) ?? null);
  assert.equal(partial.next, 0.25);
  assert.deepEqual(partial.bracket, [0, 0.5]);
});

test("smoothed accuracy reads the majority of each image's recorded votes; measured accuracy is the mean P[g_{σ,n}(x0) = y]", () => {
  const rec = (image: number, counts: number[], sigma = 0.1): AccuracyRecord => ({
    key: accuracyKey({ model: 'm', sigma, image, samples: counts.reduce((a, b) => a + b, 0) }),
    model: 'm',
    sigma,
    image,
    label: 0,
    counts,
  });
  const rs = [rec(0, [70, 30, 0]), rec(1, [40, 60, 0]), rec(2, [90, 5, 5])];
  const byKey = new Map(rs.map((r) => [r.key, r]));
  assert.equal(smoothedAccuracy(byKey, 'm', 0.1, { images: 3, samples: 100 }), 2 / 3);
  assert.equal(smoothedAccuracy(byKey, 'm', 0.1, { images: 4, samples: 100 }), null, 'an image missing: no accuracy');
  // Binary model: P[g = y] = 1 − P[Bin(n, 1 − π0) ≥ ñ].
  assert.equal(pCorrect(rs[1], 10), 1 - probMajorityWrong(0.6, 10));
  const x = measuredAccuracy(rs, { model: 'm', sigma: 0.1, n: 10 }, [0, 1, 2]);
  assert.ok(Math.abs(x! - (pCorrect(rs[0], 10) + pCorrect(rs[1], 10) + pCorrect(rs[2], 10)) / 3) < 1e-15);
  assert.equal(measuredAccuracy(rs, { model: 'm', sigma: 0.1, n: 10 }, [0, 7]), null, 'not measured on image 7');
  assert.equal(pCorrect(rec(0, [0, 1, 0], 0), 10), 0, 'σ = 0: the clean answer');
});
