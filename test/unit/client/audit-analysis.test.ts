// The audit's verdicts from hand-made records: per image the best attacker (the minimum over the
// battery), the success curve, the queries for 10/50/90% success and the recommended budget, each
// checked against values worked out by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageVerdicts, queriesToReach, summarizeEpsilon } from '../../../client/src/audit/analysis.js';
import type { AttackRecord } from '../../../client/src/record.js';

const rec = (image: string, attack: string, history: [number, number][], misclassified = false): AttackRecord => ({
  key: `${image}|${attack}`,
  attack,
  attackOptions: {},
  budget: 1000,
  seed: 0,
  misclassified,
  success: history.length > 0,
  l2: history.at(-1)?.[1] ?? null,
  linf: null,
  queries: { total: misclassified ? 1 : 1000, bad: 0, perPhase: {} },
  history,
  stopReason: 'budget',
  wallMs: 1,
  image,
  endpoint: 'e',
  deployment: 'd',
  trueLabel: 0,
  originalLabel: 0,
  adversarialLabel: 1,
  clientCpuMs: 1,
  adversarialFile: null,
  previewFile: null,
  finishedAt: '',
});

test('the best attacker per image and ε is the one that got there first', () => {
  const records = [
    rec('a', 'hsja', [
      [10, 5],
      [100, 1.5],
      [400, 0.9],
    ]),
    rec('a', 'rays', [
      [20, 3],
      [200, 0.8],
    ]),
    rec('b', 'hsja', [
      [50, 4],
      [900, 2.5],
    ]),
    rec('b', 'rays', []),
    rec('c', 'hsja', [], true),
  ];
  assert.equal(queriesToReach(records[0], 1), 400);
  assert.equal(queriesToReach(records[1], 1), 200);
  assert.equal(queriesToReach(records[3], 1), null);
  assert.equal(queriesToReach(records[4], 0.1), 1, 'an answer already wrong on the clean image');
  const v = imageVerdicts(
    [
      { id: 'a', trueLabel: 0, cleanLabel: 0 },
      { id: 'b', trueLabel: 0, cleanLabel: 0 },
      { id: 'c', trueLabel: 0, cleanLabel: 0 },
      { id: 'd', trueLabel: 0, cleanLabel: 3 },
    ],
    records,
    [1, 4],
  );
  assert.deepEqual(
    v.map((x) => x.queriesNeeded),
    [
      [200, 20],
      [null, 50],
      [1, 1],
      [0, 0],
    ],
  );
  assert.deepEqual(
    v.map((x) => x.bestAttacker),
    [
      ['rays', 'rays'],
      [null, 'hsja'],
      ['hsja', 'hsja'],
      [null, null],
    ],
  );
  assert.deepEqual(
    v.map((x) => [x.bestL2, x.bestL2Attacker]),
    [
      [0.8, 'rays'],
      [2.5, 'hsja'],
      [null, null],
      [null, null],
    ],
  );
  assert.deepEqual(
    v.map((x) => x.correct),
    [true, true, true, false],
  );
});

test('curve, queries for 10/50/90% and the recommended budget, by hand', () => {
  // Ten attacked images needing 5, 10, …, 80 queries, two never broken; one clean miss.
  const needs = [5, 10, 20, 30, 40, 50, 60, 80, null, null];
  const verdicts = needs.map((q, i) => ({
    image: `i${i}`,
    trueLabel: 0,
    cleanLabel: 0,
    correct: true,
    queriesNeeded: [q],
    bestAttacker: [q === null ? null : 'hsja'],
    bestL2: null,
    bestL2Attacker: null,
  }));
  verdicts.push({ image: 'miss', trueLabel: 0, cleanLabel: 1, correct: false, queriesNeeded: [0], bestAttacker: [null], bestL2: null, bestL2Attacker: null });
  const s = summarizeEpsilon(verdicts, 0, 1, 100, 0.2);
  assert.equal(s.attacked, 10);
  assert.equal(s.broken, 8);
  assert.equal(s.successRate, 0.8);
  // scipy.stats.binomtest(8, 10).proportion_ci(0.95, 'exact') = (0.44390, 0.97479)
  assert.ok(Math.abs(s.interval![0] - 0.4439) < 1e-4 && Math.abs(s.interval![1] - 0.97479) < 1e-4, `${s.interval}`);
  // 10%: the 1st smallest need; 50%: the 5th; 90%: the 9th (never) → null.
  assert.deepEqual(
    s.queriesFor.map((q) => q.queries),
    [5, 40, null],
  );
  // ≤ 20% of 10: at most 2 broken → one below the 3rd smallest need (20).
  assert.deepEqual(
    { budget: s.recommendedBudget.budget, atLeast: s.recommendedBudget.atLeast, broken: s.recommendedBudget.broken },
    { budget: 19, atLeast: false, broken: 2 },
  );
  const at = (q: number) => s.curve.find((p) => p.queries === q)!;
  assert.equal(at(10).broken, 2);
  assert.equal(at(20).broken, 3);
  assert.equal(at(100).broken, 8);
  // At rate 0 no image may break: one below the first need (5).
  assert.equal(summarizeEpsilon(verdicts, 0, 1, 100, 0).recommendedBudget.budget, 4);
  // When the audit's budget itself stays under the rate: "at least" the budget.
  assert.deepEqual(summarizeEpsilon(verdicts, 0, 1, 100, 0.9).recommendedBudget, {
    ...summarizeEpsilon(verdicts, 0, 1, 100, 0.9).recommendedBudget,
    budget: 100,
    atLeast: true,
  });
});

test('the budget with success under the rate at 95% confidence needs enough images', () => {
  const verdict = (q: number | null, i: number) => ({
    image: `i${i}`,
    trueLabel: 0,
    cleanLabel: 0,
    correct: true,
    queriesNeeded: [q],
    bestAttacker: [q === null ? null : 'hsja'],
    bestL2: null,
    bestL2Attacker: null,
  });
  // 19 images: even none broken gives an upper bound of 1 − 0.05^(1/19) = 0.146 > 10%.
  assert.equal(
    summarizeEpsilon(
      Array.from({ length: 19 }, (_, i) => verdict(100 + i, i)),
      0,
      1,
      1000,
      0.1,
    ).confidentBudget,
    null,
  );
  // 60 images needing 100, 101, …: one-sided 95% upper bounds at n = 60, SciPy 1.17.1
  // scipy.stats.beta.ppf(0.95, k + 1, 60 - k): k = 0 → 0.048703, 1 → 0.076640, 2 → 0.101236 (> 10%);
  // so at most 1 may break: one below the 2nd need.
  const s = summarizeEpsilon(
    Array.from({ length: 60 }, (_, i) => verdict(100 + i, i)),
    0,
    1,
    1000,
    0.1,
  );
  assert.equal(s.confidentBudget!.budget, 100);
  assert.equal(s.confidentBudget!.broken, 1);
  assert.ok(Math.abs(s.confidentBudget!.upper - 0.07664) < 1e-5, `${s.confidentBudget!.upper}`);
  // n = 29, none broken: 1 − 0.05^(1/29) = 0.098145 ≤ 10%, so the audit's whole budget, "at least".
  assert.deepEqual(
    summarizeEpsilon(
      Array.from({ length: 29 }, (_, i) => verdict(null, i)),
      0,
      1,
      1000,
      0.1,
    ).confidentBudget,
    { budget: 1000, atLeast: true, broken: 0, upper: 1 - 0.05 ** (1 / 29) },
  );
  assert.equal(s.recommendedBudget.budget, 105, 'the point estimate allows ⌊0.1·60⌋ = 6');
});
