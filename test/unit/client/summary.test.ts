// Summaries and the findings logic, on records whose answers are known by construction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { l2At, median, summarize, summaryTable } from '../../../client/src/summary.js';
import { npyBytes, readNpy } from '../../../client/src/npy.js';
import { sigmaFor } from '../../../client/src/cli/accuracy.js';
import { distortion, distortionKey, distortionTasks, type DistortionRecord } from '../../../client/src/experiments/records/distortion.js';
import type { CertificationRecord } from '../../../client/src/experiments/records/certification.js';
import type { DirectionRecord } from '../../../client/src/experiments/records/direction.js';
import { findings } from '../../../client/src/report/findings.js';
import { summarizeDistortion } from '../../../client/src/report/sections/distortion.js';
import { distortionToRadius } from '../../../client/src/report/sections/certification.js';
import { firstCrossing } from '../../../client/src/experiments/geometry.js';
import { eq6Bound } from '@rs-arena/shared/stats';
import type { AttackRecord } from '../../../client/src/record.js';

test('median by selection equals the median of the sorted values (duplicates, infinities, NaN, any order)', () => {
  const sorted = (xs: number[]) => {
    const s = Float64Array.from(xs).sort();
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const value = fc.oneof(fc.double(), fc.integer({ min: -3, max: 3 }), fc.constantFrom(Infinity, -Infinity, 0, -0));
  fc.assert(
    fc.property(fc.array(value, { minLength: 1, maxLength: 80 }), (xs) => {
      const before = [...xs];
      assert.ok(Object.is(median(xs), sorted(xs)) || median(xs) === sorted(xs), `${xs}`);
      assert.deepEqual(xs, before, 'the input is left as it was');
    }),
    { numRuns: 2000, seed: 7 },
  );
});

test('median, and the best L2 within a query budget from a history', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([]), null);
  const r = {
    history: [
      [10, 5],
      [120, 3],
      [900, 1.5],
      [1800, 1.2],
    ] as [number, number][],
  };
  assert.equal(l2At(r, 5), null);
  assert.equal(l2At(r, 500), 3);
  assert.equal(l2At(r, 1000), 1.5);
  assert.equal(l2At(r, 2000), 1.2);
});

test('campaign summary: accuracy over all images, success and L2 over the correctly classified', () => {
  const rec = (image: string, misclassified: boolean, l2: number | null): AttackRecord =>
    ({
      deployment: 'd',
      attack: 'hsja',
      image,
      misclassified,
      success: l2 !== null,
      l2,
      queries: { total: misclassified ? 1 : 100, bad: 0, perPhase: {} },
    }) as unknown as AttackRecord;
  const [row] = summarize([rec('a', false, 1), rec('b', false, 3), rec('c', true, null), rec('d', false, null)]);
  assert.equal(row.images, 4);
  assert.equal(row.accuracy, 0.75);
  assert.equal(row.successRate, 2 / 3);
  assert.equal(row.meanL2, 2);
  assert.equal(row.medianL2, 2);
  assert.equal(row.meanQueries, 75.25);
});

function dist(model: string, sigma: number, n: number, Pa: number | null, attack: string, l2s: number[], misclassified = 0): DistortionRecord[] {
  const base = {
    model,
    sigma,
    n,
    Pa,
    attack,
    oracle: sigma === 0 ? 'plain' : 'shortcut',
    repeats: 1,
    queries: { total: 2000, bad: 0, perPhase: {} },
    history: [],
    stopReason: 'budget',
    wallMs: 0,
    assessment: null,
    linf: null,
    label: 0,
  } as const;
  return [
    ...l2s.map((l2, image) => ({ ...base, key: `${model}|${sigma}|${n}|${Pa}|${attack}|${image}`, image, misclassified: false, success: true, l2 })),
    ...Array.from({ length: misclassified }, (_, k) => ({
      ...base,
      key: `${model}|${sigma}|${n}|${Pa}|${attack}|m${k}`,
      image: 100 + k,
      misclassified: true,
      success: false,
      l2: null,
    })),
  ] as unknown as DistortionRecord[];
}

test('findings: on 3 images per cell nothing is established, and each finding says n = 3', () => {
  const records = [
    ...dist('m', 0, 1, null, 'hsja', [1, 1, 1]),
    ...dist('m', 0, 1, null, 'rays', [1, 1, 1]),
    ...dist('m', 0.05, 10, 0.5, 'hsja', [3, 3, 3]),
    ...dist('m', 0.05, 100, 0.5, 'hsja', [2, 2, 2]),
    ...dist('m', 0.05, 100, 0.8, 'hsja', [2.2, 2.2, 2.2]),
    ...dist('m', 0.25, 100, 0.5, 'hsja', [2.1, 2.1, 2.1], 3),
    ...dist('m', 0.05, 10, 0.5, 'rays', [1.2, 1.2, 1.2]),
    ...dist('m', 0.05, 100, 0.5, 'rays', [1.1, 1.1, 1.1]),
    ...dist('m', 0.25, 100, 0.5, 'rays', [1.1, 1.1, 1.1], 3),
  ];
  const rows = summarizeDistortion(records);
  const hi = rows.find((r) => r.sigma === 0.25 && r.attack === 'hsja')!;
  assert.equal(hi.accuracy, 0.5);
  // 3 of 6 answered correctly: the 95% Clopper-Pearson interval (scipy binomtest(3, 6).proportion_ci) is wide.
  assert.ok(Math.abs(hi.accuracyLo - 0.11811724875702524) < 1e-12 && Math.abs(hi.accuracyHi - 0.8818827512429748) < 1e-12, `${hi.accuracyLo} ${hi.accuracyHi}`);
  const cert = [0, 1, 2].map((image) => ({
    key: `m|0.05|${image}`,
    model: 'm',
    sigma: 0.05,
    image,
    label: 0,
    certified: 0,
    correct: true,
    pLower: 0.99,
    radius: 0.05,
    n0: 100,
    n: 1000,
    alpha: 0.001,
  }));
  const spread = (c: number, w: number) => Array.from({ length: 12 }, (_, i) => c + w * (i / 11 - 0.5));
  const bs = [
    { key: 'a', model: 'm', sigma: 0.05, n: 1, image: 0, l2: 1, outputs: spread(1, 1.5), boundary: 1 },
    { key: 'b', model: 'm', sigma: 0.05, n: 100, image: 0, l2: 1, outputs: spread(1, 0.05), boundary: 1 },
  ];
  const f = Object.fromEntries(findings(records, cert, bs).map((x) => [x.id, x]));
  for (const id of ['pa-barely-matters', 'fewer-samples', 'rays-least-affected', 'distortion-vs-radius']) {
    assert.equal(f[id].verdict, 'not established', `${id}: ${f[id].evidence}`);
    assert.equal(f[id].n, 3, id);
    assert.equal(f[id].source, 'paper');
  }
  // Every paired cell still shows its numbers: n = 10 ÷ n = 100 for hsja is 3 ÷ 2.
  assert.match(
    f['fewer-samples'].evidence,
    /hsja m σ=0\.05 n=100 → n=10: mean 2\.000 → 3\.000 .*ratio of means ×1\.500 \[1\.500, 1\.500\], paired on 3 images/,
  );
  // The binary search: 12 searches per n on one image, IQR 30 times smaller at n = 100: established, on 1 image.
  assert.equal(f['binary-search-spread'].verdict, 'established');
  assert.equal(f['binary-search-spread'].n, 1);
});

test('Fig. 1 finding: the smoothed frontier beyond xa on every image is established on 10 images; straddling xa, or on 4 images, is not', () => {
  const ts = Array.from({ length: 11 }, (_, i) => i * 0.2); // 0 … 2, xa at t = 1
  // π0 falls linearly from 1 and crosses ½ at t = c.
  const ray = (image: number, c: number, l2 = 2): DirectionRecord => ({
    key: `d${image}`,
    model: 'm',
    sigma: 0.05,
    image,
    l2,
    t: ts,
    pi0: ts.map((t) => Math.max(0, 1 - t / (2 * c))),
    samples: 1000,
  });
  const of = (rays: DirectionRecord[]) => findings([], [], [], [], rays).find((x) => x.id === 'fig1-frontier-beyond')!;
  const beyond = of(Array.from({ length: 10 }, (_, i) => ray(i, 1.1 + 0.02 * i)));
  assert.equal(beyond.verdict, 'established', beyond.evidence);
  assert.equal(beyond.n, 10);
  // Median t* of 1.1 … 1.28 is 1.19; L2 beyond xa = (t* − 1) × 2.
  assert.match(beyond.evidence, /median t\* 1\.190 .* on 10 images; crossed after xa on 10\/10 = 100%/);
  assert.match(beyond.evidence, /median L2 beyond xa 0\.380/);
  // Half the rays cross before xa: the median straddles 1.
  assert.equal(of(Array.from({ length: 10 }, (_, i) => ray(i, i % 2 ? 1.2 : 0.8))).verdict, 'not established');
  // Four images establish nothing; a ray whose π0 never reaches ½ counts at its end, and one wrong at x0 is left out.
  const few = of([...[0, 1, 2, 3].map((i) => ray(i, 1.3)), { ...ray(4, 1), pi0: ts.map(() => 0.9) }, { ...ray(5, 1), pi0: ts.map(() => 0.2) }]);
  assert.equal(few.verdict, 'not established');
  assert.equal(few.n, 5);
  assert.match(few.evidence, /1 not crossed within the ray/);
  assert.equal(findings([], [], [], [], []).find((x) => x.id === 'fig1-frontier-beyond')!.verdict, 'no data');
});

test('RandTrain findings: σ paired by accuracy cost from the search; the same robustness within ×1.3, and RayS below the standard model without RS', () => {
  const costs = [
    { model: 'm', drop: 0.12, sigma: 0.07 },
    { model: 'm-randtrain', drop: 0.12, sigma: 0.38 },
    { model: 'm-advtrain', drop: 0.12, sigma: 0.23 },
  ];
  // 12 images; RandTrain's L2 is the standard model's × 1.05 (± 2% per image): the same, within ×1.3.
  const l2 = Array.from({ length: 12 }, (_, i) => 2 + 0.1 * i);
  const jitter = (i: number) => 1 + 0.02 * ((i % 3) - 1);
  const of = (records: DistortionRecord[], id: string) => findings(records, [], [], ['rays'], [], costs).find((x) => x.id === id)!;
  // RandTrain at the searched σ, its L2 `scale` × the standard model's (± 2% per image).
  const rand = (scale: number) =>
    dist(
      'm-randtrain',
      0.38,
      10,
      0.5,
      'rays',
      l2.map((v, i) => scale * v * jitter(i)),
    );
  const std = [...dist('m', 0.07, 10, 0.5, 'rays', l2)];
  const sameRecords = [
    ...dist(
      'm',
      0,
      1,
      null,
      'rays',
      l2.map((v) => v * 1.5),
    ),
    ...std,
    ...rand(1.05),
    // A RandTrain σ the search did not choose is not compared.
    ...dist(
      'm-randtrain',
      0.25,
      10,
      0.5,
      'rays',
      l2.map((v) => v * 3),
    ),
  ];
  const same = of(sameRecords, 'randtrain-same-robustness');
  assert.equal(same.verdict, 'established', same.evidence);
  assert.equal(same.n, 12);
  assert.match(same.evidence, /^rays cost 0\.12 \(σ 0\.07 vs 0\.38\) n=10 Pa=0\.5: .*ratio of means ×1\.05/);
  // RayS on RandTrain with RS (×1.05 of m at σ 0.07) is below m without RS (×1.5): established.
  const rays = of(sameRecords, 'randtrain-rays-below-standard');
  assert.equal(rays.verdict, 'established', rays.evidence);
  assert.match(rays.evidence, /rays m-randtrain σ=0\.38 n=10 Pa=0\.5 vs m \(no RS\)/);
  // Twice as robust: the same-robustness claim is contradicted; RayS above the undefended model: contradicted.
  const twice = [...dist('m', 0, 1, null, 'rays', l2), ...std, ...rand(2)];
  assert.equal(of(twice, 'randtrain-same-robustness').verdict, 'contradicted');
  assert.equal(of(twice, 'randtrain-rays-below-standard').verdict, 'contradicted');
  // Without the σ search there is nothing to pair.
  assert.equal(findings(sameRecords, [], [], ['rays']).find((x) => x.id === 'randtrain-same-robustness')!.verdict, 'no data');
  // Fig. 4: certified radii at the same cost, 0 where CERTIFY abstains or is wrong; RandTrain's
  // mean radius is about three times the standard model's on 12 images (one image wrong on each side).
  const certs = (model: string, sigma: number, radius: (i: number) => number) =>
    Array.from({ length: 12 }, (_, image) => {
      const r = radius(image);
      return {
        key: `${model}|${sigma}|${image}`,
        model,
        sigma,
        image,
        label: 0,
        certified: r > 0 ? 0 : -1,
        correct: r > 0,
        pLower: 0.9,
        radius: r,
        n0: 100,
        n: 1000,
        alpha: 0.001,
      };
    });
  const cert = [...certs('m', 0.07, (i) => (i === 0 ? 0 : 0.1 + 0.01 * i)), ...certs('m-randtrain', 0.38, (i) => (i === 1 ? 0 : 0.3 + 0.03 * i))];
  const fig4 = findings([], cert, [], [], [], costs).find((x) => x.id === 'fig4-randtrain-larger-radius')!;
  assert.equal(fig4.verdict, 'established', fig4.evidence);
  // Means: Σ_{i=1..11} (0.1 + 0.01 i) / 12 = 1.76 / 12 = 0.147 and Σ_{i≠1} (0.3 + 0.03 i) / 12 = 5.25 / 12 = 0.4375; ratio 2.983.
  assert.match(fig4.evidence, /mean certified radius 0\.147 → 0\.43\d, ratio ×2\.98\d* \[.*on 12 images; certified correctly 11\/12 = 92% .* → 11\/12/);
  const flat = findings([], [...certs('m', 0.07, () => 0.2), ...certs('m-randtrain', 0.38, () => 0.2)], [], [], [], costs).find(
    (x) => x.id === 'fig4-randtrain-larger-radius',
  )!;
  assert.equal(flat.verdict, 'not established');
});

test("the shortcut's final points at level by fresh votes: contradicted where few reach P_a, established where all do", () => {
  const assessed = (n: number, Pa: number, p: number, images = 20) =>
    dist('m', 0.05, n, Pa, 'hsja', Array(images).fill(2)).map((r) => ({ ...r, assessment: { probAdversarial: p } }) as unknown as DistortionRecord);
  const of = (records: DistortionRecord[]) => findings(records, [], [], ['hsja']).find((x) => x.id === 'shortcut-at-level')!;
  // 40 of 40 at level: the Clopper-Pearson lower bound 0.025^(1/40) = 0.912 clears 0.9 (20 of 20 would not: 0.832).
  const high = of([...assessed(50, 0.8, 0.99, 40), ...assessed(100, 0.8, 0.97, 40)]);
  assert.equal(high.verdict, 'established', high.evidence);
  assert.match(high.evidence, /^n=50, P_a=0\.8: 40\/40 = 100% \[91%, 100%\] of 40 runs \(40 images\), median P\[g ≠ y\] 0\.990; n=100/);
  // One level where the points fall short (P = 0.02 < 0.5 on every run) contradicts the claim.
  const low = of([...assessed(50, 0.8, 0.99), ...assessed(10, 0.5, 0.02)]);
  assert.equal(low.verdict, 'contradicted', low.evidence);
  assert.match(low.evidence, /n=10, P_a=0\.5: 0\/20 = 0% \[0%, 17%\]/);
  // Runs without an assessment (σ = 0, or a failed attack) are not counted.
  assert.equal(of(dist('m', 0, 1, null, 'hsja', [1, 2])).verdict, 'no data');
});

test('distortion grid: σ = 0 once, n = 1 at one level, extra levels only up to extraPaMaxN; select keeps the grid', () => {
  const config = {
    settings: [
      { model: 'm', sigma: 0 },
      { model: 'm', sigma: 0.25 },
    ],
    ns: [1, 10, 100],
    Pas: [0.5, 0.8],
    extraPaMaxN: 10,
    attacks: ['hsja' as const],
    budget: 100,
    images: 2,
    assessSamples: 10,
  };
  const tasks = distortionTasks(config);
  const cells = [...new Set(tasks.map((t) => `${t.sigma}/${t.n}/${t.Pa}`))].sort();
  // σ = 0: plain, once; σ > 0: n = 1 at 0.5 only, n = 10 at both levels, n = 100 at 0.5 only.
  assert.deepEqual(cells, ['0.25/1/0.5', '0.25/10/0.5', '0.25/10/0.8', '0.25/100/0.5', '0/1/null']);
  assert.equal(tasks.length, 5 * 2);
  // Image by image: every setting of image 0 comes before image 1.
  assert.deepEqual(
    tasks.map((t) => t.image),
    [0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
  );
  // Without the cap, n = 100 runs at P_a = 0.8 too.
  assert.equal(distortionTasks({ ...config, extraPaMaxN: undefined }).length, 6 * 2);
  // imagesAtN: n = 100 on the first image only; the other cells keep both images.
  const fewer = distortionTasks({ ...config, imagesAtN: { '100': 1 } });
  assert.deepEqual(
    fewer.filter((t) => t.n === 100).map((t) => t.image),
    [0],
  );
  assert.equal(fewer.length, 5 * 2 - 1);
  // The cells asked on both images first, image by image, then n = 100 (asked on one).
  assert.deepEqual(
    fewer.map((t) => `${t.image}/${t.n}`),
    ['0/1', '0/1', '0/10', '0/10', '1/1', '1/1', '1/10', '1/10', '0/100'],
  );
  assert.equal(distortion.config.safeParse({ ...config, imagesAtN: { ten: 1 } }).success, false);
  // A record from the uncapped grid (n = 100, P_a = 0.8) is not part of the capped one.
  const uncapped = distortionTasks({ ...config, extraPaMaxN: undefined });
  const rec = (n: number, Pa: number, budget = 100) =>
    ({ ...uncapped.find((t) => t.n === n && t.Pa === Pa && t.image === 0)!, budget }) as unknown as DistortionRecord;
  const kept = distortion.select!([rec(100, 0.8), rec(100, 0.5), rec(10, 0.8), rec(10, 0.8, 200)], config).map(distortionKey);
  assert.deepEqual(kept, [distortionKey(rec(100, 0.5)), distortionKey(rec(10, 0.8))]);
  // The key holds everything that changes a result: another budget, seed or option is another run.
  assert.notEqual(distortionKey(rec(10, 0.8)), distortionKey(rec(10, 0.8, 200)));
  assert.notEqual(distortionKey(rec(10, 0.8)), distortionKey({ ...rec(10, 0.8), seed: 1 }));
  assert.notEqual(distortionKey(rec(10, 0.8)), distortionKey({ ...rec(10, 0.8), attackOptions: { gamma: 10 } }));
});

test('firstCrossing interpolates between the grid points around the level', () => {
  // π0 goes 1, 0.9, 0.7, 0.3, 0: it crosses ½ halfway between t = 2 and t = 3.
  assert.equal(firstCrossing([0, 1, 2, 3, 4], [1, 0.9, 0.7, 0.3, 0], 0.5), 2.5);
  assert.ok(Math.abs(firstCrossing([0, 0.5, 1], [1, 0.6, 0.1], 0.5)! - (0.5 + 0.5 * (0.1 / 0.5))) < 1e-12);
  assert.equal(firstCrossing([0, 1], [0.2, 0.1], 0.5), 0);
  assert.equal(firstCrossing([0, 1], [0.9, 0.8], 0.5), null);
});

test('distortion ÷ certified radius and the eq. (6) bound, per attack, n and P_a', () => {
  const cert = [
    { model: 'm', sigma: 0.25, image: 0, correct: true, radius: 0.2 },
    { model: 'm', sigma: 0.25, image: 1, correct: true, radius: 0.5 },
    { model: 'm', sigma: 0.25, image: 2, correct: false, radius: 0.7 }, // wrong class: no certificate
  ] as CertificationRecord[];
  const d = (image: number, l2: number) =>
    ({ model: 'm', sigma: 0.25, attack: 'rays', n: 10, Pa: 0.8, oracle: 'shortcut', image, success: true, l2 }) as DistortionRecord;
  const [row, ...rest] = distortionToRadius(cert, [d(0, 1.0), d(1, 0.1), d(2, 3.0)]);
  assert.equal(rest.length, 0);
  assert.equal(row.images, 2);
  assert.equal(row.medianRatio, (1.0 / 0.2 + 0.1 / 0.5) / 2);
  assert.equal(row.minRatio, 0.2);
  // eq6Bound is pinned to SciPy in smoothing-formulas.test.ts; here: R + σΦ⁻¹(I⁻¹_0.8(6, 6)) > R.
  const b0 = eq6Bound(0.2, 0.25, 10, 0.8);
  const b1 = eq6Bound(0.5, 0.25, 10, 0.8);
  assert.ok(b0 > 0.2 && b1 > 0.5);
  assert.equal(row.medianEq6Bound, (b0 + b1) / 2);
  assert.equal(row.belowEq6, 1); // image 1: 0.1 is below its bound
});

test('campaign summary: cut-short images apart; a random endpoint named, with the share of fresh answers still wrong', () => {
  const rec = (image: string, extra: Partial<AttackRecord>): AttackRecord =>
    ({
      deployment: 'rs',
      attack: 'hsja',
      image,
      misclassified: false,
      success: true,
      l2: 1,
      stopReason: 'budget',
      queries: { total: 100, bad: 0, perPhase: {} },
      ...extra,
    }) as unknown as AttackRecord;
  const [row] = summarize([
    rec('a', { confirmation: { answers: 5, adversarial: 1, distinctLabels: 2 } }),
    rec('b', { confirmation: { answers: 5, adversarial: 2, distinctLabels: 2 } }),
    rec('c', { success: false, l2: null, stopReason: 'budget-refused', queries: { total: 0, bad: 0, perPhase: {} } }),
  ]);
  assert.equal(row.images, 2, 'the refused image is not counted as attacked');
  assert.equal(row.accuracy, 1);
  assert.equal(row.cutShort, 1);
  assert.equal(row.confirmed, 3 / 10);
  assert.equal(row.random, 'detected');
  const text = summaryTable([row]);
  assert.match(text, /rs answers at random \(detected: the same point got different answers\): "success" there means answered wrongly once/);
  assert.match(text, /share of 5 fresh answers per adversarial/);
  assert.match(text, /note: 1 image run\(s\) were cut short/);
  // A deterministic endpoint whose adversarials stay adversarial: no note, confirmed 100%.
  const [plain] = summarize([rec('a', { deployment: 'plain', confirmation: { answers: 5, adversarial: 5, distinctLabels: 1 } })]);
  assert.equal(plain.random, null);
  assert.equal(plain.confirmed, 1);
  assert.doesNotMatch(summaryTable([plain]), /note:/);
  const [disclosed] = summarize([rec('a', { deployment: 'd', endpointRandomness: 'disclosed-random', confirmation: null })]);
  assert.equal(disclosed.random, 'disclosed');
});

test('.npy: the saved adversarial carries its shape; numpy-compatible header aligned to 64 bytes', () => {
  const values = Float32Array.from({ length: 12 }, (_, i) => i / 7);
  const bytes = npyBytes(values, [3, 2, 2]);
  assert.equal(bytes.subarray(0, 6).toString('latin1'), '\x93NUMPY');
  const headerLength = bytes.readUInt16LE(8);
  assert.equal((10 + headerLength) % 64, 0);
  assert.match(bytes.subarray(10, 10 + headerLength).toString('latin1'), /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(3, 2, 2\), \} *\n$/);
  const back = readNpy(bytes);
  assert.deepEqual(back.shape, [3, 2, 2]);
  assert.deepEqual(Array.from(back.values), Array.from(values));
  assert.throws(() => npyBytes(values, [5]), /holds 5 values/);
});

test('rs-arena accuracy: the largest σ of the list within the cost, or why none is', () => {
  const row = (sigma: number, correct: number) => ({ sigma, n: sigma ? 10 : 1, images: 40, correct, accuracy: correct / 40, ci95: [0, 1] as [number, number] });
  assert.match(sigmaFor([row(0, 36), row(0.12, 35), row(0.25, 33), row(0.5, 20)], 10)!, /^σ = 0\.25 costs 7\.5 points \(82\.5% vs 90\.0% clean on 40 images\)/);
  assert.match(sigmaFor([row(0, 31), row(0.06, 15)], 10)!, /^no σ of the list costs 10 points or less \(clean 77\.5%\)/);
  assert.equal(sigmaFor([row(0.25, 10)], 5), null, 'no clean row: nothing to compare with');
});
