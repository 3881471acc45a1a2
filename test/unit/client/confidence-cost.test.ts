// "The query cost of confidence": its task grid, its config checks against the attack registry, and
// the summary and findings the report draws from its records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CheckedConfidenceCostConfig } from '../../../client/src/experiments/confidence-cost.js';
import {
  type ConfidenceCostConfig,
  type ConfidenceCostRecord,
  confidenceCost,
  confidenceCostKey,
  confidenceCostTasks,
  costCheckpoints,
} from '../../../client/src/experiments/records/confidence-cost.js';
import { confidenceCostFindings, summarizeCost } from '../../../client/src/report/sections/confidence-cost.js';

const config: ConfidenceCostConfig = {
  settings: [
    { model: 'm', sigma: 0.25 },
    { model: 'r', sigma: 0.25 },
  ],
  ns: [
    { n: 100, images: 1 },
    { n: 10, images: 3 },
  ],
  Pa: 0.8,
  attackers: [
    { attack: 'geoda-seq', options: { searchAlpha: 0.25 } },
    { attack: 'rays-seq', images: 2, ns: [10] },
    { attack: 'rays', repeats: 5, images: 1 },
  ],
  budget: 10_000,
  shortcut: { attacks: [{ attack: 'rays', options: {} }], budget: 2000 },
  assessSamples: 4000,
};

test('tasks: the cheap n first, image by image; noise-aware attackers decide at the experiment level; caps per attacker', () => {
  const tasks = confidenceCostTasks(config);
  // n = 10: images 0..2 × 2 settings × (geoda-seq + rays-seq on images < 2 + rays ℓ=5 on image 0 + shortcut), then n = 100.
  const n10 = tasks.filter((t) => t.n === 10);
  assert.equal(n10.length, 2 * (3 + 2 + 1 + 3));
  assert.ok(tasks.findIndex((t) => t.n === 100) > tasks.findLastIndex((t) => t.n === 10), 'n = 10 before n = 100');
  assert.deepEqual([...new Set(n10.map((t) => t.image))], [0, 1, 2]);
  for (let i = 1; i < n10.length; i++) assert.ok(n10[i].image >= n10[i - 1].image, 'image by image');
  // rays-seq only at n = 10; at n = 100 (one image): geoda-seq, rays ℓ=5 and the shortcut per setting.
  assert.deepEqual(
    tasks
      .filter((t) => t.n === 100)
      .map((t) => `${t.attack}/${t.oracle}`)
      .sort(),
    ['geoda-seq/sequential', 'geoda-seq/sequential', 'rays/repeated', 'rays/repeated', 'rays/shortcut', 'rays/shortcut'],
  );
  const geoda = tasks.find((t) => t.attack === 'geoda-seq')!;
  assert.deepEqual(geoda.attackOptions, { searchAlpha: 0.25, Pa: 0.8 });
  assert.equal(geoda.repeats, 1);
  assert.equal(geoda.budget, 10_000);
  const repeated = tasks.find((t) => t.oracle === 'repeated')!;
  assert.equal(repeated.repeats, 5);
  assert.deepEqual(repeated.attackOptions, {});
  assert.equal(tasks.find((t) => t.oracle === 'shortcut')!.budget, 2000);
  // Keys are unique, and select keeps only this config's records.
  assert.equal(new Set(tasks.map(confidenceCostKey)).size, tasks.length);
  const other = { ...tasks[0], budget: 20_000 } as unknown as ConfidenceCostRecord;
  assert.equal(confidenceCost.select!([tasks[0] as unknown as ConfidenceCostRecord, other], config).length, 1);
});

test('checkpoints: 1-2-4 per decade up to the budget, and the budget', () => {
  assert.deepEqual(costCheckpoints(config), [100, 200, 400, 1000, 2000, 4000, 10_000]);
  assert.deepEqual(costCheckpoints({ ...config, budget: 20_000 }), [100, 200, 400, 1000, 2000, 4000, 10_000, 20_000]);
  assert.deepEqual(costCheckpoints({ ...config, checkpoints: [500, 50] }), [50, 500]);
  // An attacker with its own, longer budget: the grid goes on to it, and its tasks spend it.
  const longer = { ...config, attackers: [...config.attackers, { attack: 'geoda-seq', images: 1, ns: [10], budget: 20_000 }] };
  assert.deepEqual(costCheckpoints(longer), [100, 200, 400, 1000, 2000, 4000, 10_000, 20_000]);
  assert.deepEqual(costCheckpoints({ ...config, attackers: [{ attack: 'psj', budget: 3000 }] }), [100, 200, 400, 1000, 2000, 3000, 4000, 10_000]);
  const long = confidenceCostTasks(longer).filter((t) => t.budget === 20_000);
  assert.deepEqual(
    long.map((t) => `${t.attack}/${t.n}/${t.image}`),
    ['geoda-seq/10/0', 'geoda-seq/10/0'],
  );
  assert.equal(new Set(confidenceCostTasks(longer).map(confidenceCostKey)).size, confidenceCostTasks(longer).length);
});

test('config checks: attack names and options, plain vs noise-aware, the shortcut runs plain attacks', () => {
  const issues = (patch: Record<string, unknown>) => {
    const r = CheckedConfidenceCostConfig.safeParse({ ...config, ...patch });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  assert.deepEqual(issues({}), []);
  assert.match(issues({ attackers: [{ attack: 'fgsm' }] }).join(), /attackers\.0\.attack: unknown attack "fgsm"/);
  assert.match(issues({ attackers: [{ attack: 'hsja' }] }).join(), /attackers\.0\.repeats: "hsja" is a plain attack: give it repeats/);
  assert.match(issues({ attackers: [{ attack: 'psj', repeats: 3 }] }).join(), /attackers\.0\.repeats: "psj" decides through its own sequential test/);
  assert.match(issues({ attackers: [{ attack: 'psj', options: { Pa: 0.5 } }] }).join(), /attackers\.0\.options\.Pa: the level is the experiment's Pa/);
  assert.match(issues({ attackers: [{ attack: 'geoda-seq', options: { searchAlpha: 0.7 } }] }).join(), /attackers\.0\.attack\.searchAlpha/);
  assert.match(issues({ shortcut: { attacks: ['surfree-seq'], budget: 10 } }).join(), /shortcut\.attacks\.0: "surfree-seq" is noise-aware/);
  // A shortcut attack with options (a control): its options are checked against the attack's schema.
  assert.deepEqual(issues({ shortcut: { attacks: ['hsja', { attack: 'geoda', options: { probeFactor: 0.3 } }], budget: 10 } }), []);
  assert.match(issues({ shortcut: { attacks: [{ attack: 'geoda', options: { probeFactor: -1 } }], budget: 10 } }).join(), /shortcut\.attacks\.0\.probeFactor/);
  assert.match(
    issues({ shortcut: { attacks: [{ attack: 'geoda', options: { nope: 1 } }], budget: 10 } }).join(),
    /shortcut\.attacks\.0: Unrecognized key: "nope"/,
  );
  assert.match(issues({ settings: [{ model: 'm', sigma: 0 }] }).join(), /settings\.0\.sigma: σ must be > 0/);
});

/** A record of `attack` on image `image` with final L2 `l2` (null: nothing returned) and fresh-vote probability `p`. */
function rec(
  attack: string,
  oracle: ConfidenceCostRecord['oracle'],
  image: number,
  l2: number | null,
  p: number,
  history: [number, number][] = [],
): ConfidenceCostRecord {
  return {
    key: `${attack}|${oracle}|${image}`,
    attack,
    attackOptions: {},
    budget: oracle === 'shortcut' ? 2000 : 10_000,
    seed: image,
    misclassified: false,
    success: l2 !== null,
    l2,
    linf: null,
    queries: { total: 10_000, bad: 0, perPhase: {} },
    history: l2 === null ? history : [...history, [oracle === 'shortcut' ? 2000 : 10_000, l2]],
    stopReason: 'budget',
    wallMs: 1,
    model: 'm',
    sigma: 0.25,
    n: 10,
    Pa: 0.8,
    oracle,
    repeats: 1,
    image,
    label: 0,
    assessSamples: 4000,
    assessment:
      l2 === null
        ? null
        : {
            samples: 4000,
            pi0: 0.1,
            pi0Interval: [0.09, 0.11],
            probAdversarial: p,
            probAdversarialBinary: p,
            probAdversarialInterval: [p, p],
            eq5Threshold: 0.3,
            eq5Holds: true,
            shortcutVerdict: true,
          },
  };
}

test('summary: medians count an image without a final point as ∞; at level over attacked images; ratio to the best shortcut', () => {
  const records = [
    rec('geoda-seq', 'sequential', 0, 2.0, 0.95, [
      [1000, 4],
      [5000, 3],
    ]),
    rec('geoda-seq', 'sequential', 1, 3.0, 0.9, [[1000, 5]]),
    rec('geoda-seq', 'sequential', 2, null, 0),
    rec('rays', 'shortcut', 0, 1.0, 0.4),
    rec('rays', 'shortcut', 1, 2.0, 0.6),
    rec('rays', 'shortcut', 2, 1.5, 0.9),
    rec('hsja', 'shortcut', 0, 5, 0.5),
  ];
  const rows = summarizeCost(records, 0.8);
  const g = rows.find((r) => r.attacker === 'geoda-seq')!;
  assert.equal(g.attacked, 3);
  assert.equal(g.medianL2, 3.0); // 2, 3, ∞
  assert.equal(g.medianL2At2000, 5); // 4, 5, ∞
  assert.equal(g.medianL2At10000, 3.0);
  assert.equal(g.atLevel, 2 / 3);
  assert.equal(g.vsShortcut, 3.0 / 1.5); // the best shortcut attack: rays, median 1.5
  assert.equal(rows.find((r) => r.attacker === 'rays shortcut')!.atLevel, 1 / 3);
  const f = Object.fromEntries(confidenceCostFindings(records, config).map((x) => [x.id, x]));
  // 2 of 3 at level: Clopper-Pearson [9%, 99%] straddles 0.9; the L2 ratio rests on 2 images (both returned a point).
  assert.equal(f['confidence-at-level'].verdict, 'not established');
  assert.equal(f['confidence-at-level'].n, 3);
  assert.equal(f['confidence-at-level'].source, 'project');
  assert.match(f['confidence-at-level'].evidence, /geoda-seq 2\/3 = 67% \[9%, 99%\]/);
  assert.equal(f['confidence-cost'].verdict, 'not established');
  assert.equal(f['confidence-cost'].n, 2);
  assert.match(
    f['confidence-cost'].evidence,
    /geoda-seq vs rays shortcut: mean 1\.500 → 2\.500 .*ratio of means ×1\.667 \[1\.500, 2\.000\], paired on 2 images/,
  );
  // The control: geoda-seq beside geoda under the shortcut (none here), so no control finding.
  assert.equal(f['confidence-control'], undefined);
  // 40 images, every point at level and 1.05× the shortcut's: at level established (CP 91%–100%), the cost too.
  // RayS under the shortcut twice: at its defaults, and as rays-seq's control (its 1% bisection, controls.ts).
  const many = Array.from({ length: 40 }, (_, i) => [
    rec('geoda-seq', 'sequential', i, 1.5 + 0.01 * (i % 5), 0.95),
    rec('rays', 'shortcut', i, (1.5 + 0.01 * (i % 5)) / 1.05, 0.4),
    { ...rec('rays', 'shortcut', i, (1.5 + 0.01 * (i % 5)) / 1.05, 0.4), attackOptions: { tolerance: 0.01 }, key: `rays-control|${i}` },
    { ...rec('rays', 'shortcut', i, 9, 0.4), attackOptions: { tolerance: 0.5 }, key: `rays-coarse|${i}` },
    rec('rays-seq', 'sequential', i, 2 * (1.5 + 0.01 * (i % 5)), 0.95),
  ]).flat();
  const g2 = Object.fromEntries(confidenceCostFindings(many, config).map((x) => [x.id, x]));
  assert.equal(g2['confidence-at-level'].verdict, 'established');
  assert.equal(g2['confidence-cost'].verdict, 'established');
  // rays-seq beside RayS with rays-seq's options under the shortcut on the same 40 images (not the
  // default RayS, nor a coarser one): ×2.1, above 1.1: contradicted.
  assert.equal(g2['confidence-control'].verdict, 'contradicted');
  assert.match(
    g2['confidence-control'].evidence,
    /rays-seq \(10,000 top-1 queries\) vs rays\[tolerance=0\.01\] shortcut \(2,000 points\): .*ratio of means ×2\.100/,
  );
  assert.doesNotMatch(g2['confidence-control'].evidence, /vs rays shortcut|tolerance=0\.5/);
});

test('variants of one attack stay apart; the targets look at noise-aware attackers only', () => {
  const variant = (image: number, l2: number, p: number) => ({
    ...rec('geoda-seq', 'sequential', image, l2, p),
    attackOptions: { Pa: 0.8, searchAlpha: 0.25 },
    key: `v${image}`,
  });
  const repeated = (image: number) => ({ ...rec('rays', 'repeated', image, 0.5, 1), repeats: 5, key: `r${image}` });
  const records = [
    rec('geoda-seq', 'sequential', 0, 2.0, 0.95),
    rec('geoda-seq', 'sequential', 1, 2.2, 0.5),
    variant(0, 3.0, 0.9),
    variant(1, 3.1, 0.9),
    repeated(0),
    repeated(1),
    rec('rays', 'shortcut', 0, 2.0, 0.4),
    rec('rays', 'shortcut', 1, 2.0, 0.4),
  ];
  const rows = summarizeCost(records, 0.8);
  assert.deepEqual(rows.map((r) => r.attacker).sort(), ['geoda-seq', 'geoda-seq[searchAlpha=0.25]', 'rays shortcut', 'rays ℓ=5']);
  // rays ℓ=5 has every point at level and the smallest L2, but it is not noise-aware: the variant (100%) is the best.
  const f = Object.fromEntries(confidenceCostFindings(records, config).map((x) => [x.id, x]));
  assert.match(f['confidence-at-level'].evidence, /geoda-seq\[searchAlpha=0\.25\] 2\/2 = 100%/);
  assert.equal(f['confidence-at-level'].verdict, 'not established');
});

test('the best noise-aware attacker is chosen among those run on the most images', () => {
  const few = (image: number) => ({ ...rec('psj', 'sequential', image, 9, 0.99), key: `p${image}` });
  const records = [
    rec('geoda-seq', 'sequential', 0, 2.0, 0.95),
    rec('geoda-seq', 'sequential', 1, 2.2, 0.5),
    rec('geoda-seq', 'sequential', 2, 2.1, 0.9),
    few(0),
    rec('rays', 'shortcut', 0, 2.0, 0.4),
    rec('rays', 'shortcut', 1, 2.0, 0.4),
  ];
  // psj: 1 of 1 at level; geoda-seq: 2 of 3 on three images, the only one run on all of them.
  const f = Object.fromEntries(confidenceCostFindings(records, config).map((x) => [x.id, x]));
  assert.match(f['confidence-at-level'].evidence, /: geoda-seq 2\/3 = 67% \[9%, 99%\]$/);
});
