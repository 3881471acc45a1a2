// The three attacks against the shipped standard CNN, in-process: they find adversarials that
// shrink with the budget, their query accounting is exact, and a randomized oracle (RS, n = 1)
// never makes them crash, hang or overspend.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalOracle, assertServable } from '../../helpers/oracle-local.js';
import { CountingOracle, type Oracle } from '../../../client/src/oracle.js';
import { ATTACKS } from '../../../client/src/attacks/index.js';
import { dist2 } from '../../../client/src/vec.js';
import { loadCatalog, loadSample } from '@rs-arena/shared/catalog';

const sample = loadSample(loadCatalog());
const image = (i: number) => sample.images.slice(i * 784, (i + 1) * 784);

/** Records every call that reaches the model, and its answers. */
class SpyOracle implements Oracle {
  calls = 0;
  inputs = 0;
  wrong = 0;
  answers = new Map<string, number>();
  constructor(
    readonly inner: Oracle,
    readonly original: number,
  ) {}
  get inputShape() {
    return this.inner.inputShape;
  }
  get range() {
    return this.inner.range;
  }
  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    assertServable(batch, count, this.range);
    this.calls++;
    this.inputs += count;
    const labels = await this.inner.predict(batch, count);
    for (const l of labels) if (l >= 0 && l !== this.original) this.wrong++;
    return labels;
  }
}

let base: LocalOracle;
before(async () => {
  base = await LocalOracle.load('fmnist-cnn');
});
after(() => base.close());

for (const attack of Object.values(ATTACKS)) {
  describe(attack.name, () => {
    test('distortion decreases with the budget; adversarials are verified', async () => {
      const images = [0, 1, 2];
      const at = async (budget: number) => {
        const l2: number[] = [];
        for (const i of images) {
          const oracle = new CountingOracle(base, sample.labels[i], budget);
          const r = await attack.run(oracle, image(i), { seed: i });
          assert.equal(r.success, true, `${attack.name} image ${i} at ${budget}: ${r.stopReason}`);
          // The returned point really is adversarial for the (deterministic) model, in range.
          const label = (await base.predict(r.adversarial!, 1))[0];
          assert.notEqual(label, sample.labels[i]);
          assert.equal(label, r.adversarialLabel);
          assert.ok(r.adversarial!.every((v) => v >= 0 && v <= 1));
          assert.ok(Math.abs(dist2(r.adversarial!, image(i)) - r.l2!) < 1e-9);
          // History: queries increase and the best distance never grows.
          for (let k = 1; k < r.history.length; k++) {
            assert.ok(r.history[k][0] >= r.history[k - 1][0]);
            assert.ok(r.history[k][1] <= r.history[k - 1][1] + 1e-12);
          }
          l2.push(r.l2!);
        }
        return l2.reduce((a, b) => a + b) / l2.length;
      };
      // 1,000 queries against 300 (2,000 until measured): the mean L2 at 1,000 is 0.61–0.73 of the
      // 300's for the plain attacks, the one nearest the 0.85 below as at 2,000 (GeoDA: 0.73, 0.71
      // at 2,000), and 0.59–0.87 for the noise-aware ones; runs to 2,000 were 3,000 more queries
      // per attack for the same verdicts.
      const small = await at(300);
      const large = await at(1000);
      // A noise-aware attack (its options hold the sequential test's level) pays repeats and a
      // confirmation reserve even where one answer would do: on this deterministic model it must
      // still improve with the budget, by less than a plain attack (psj: 5.10 vs 5.84 measured, at
      // 1,000 as at 2,000).
      const plain = !Object.hasOwn(attack.options.shape, 'Pa');
      assert.ok(large < (plain ? 0.85 : 1) * small, `mean L2 ${large} at 1000 queries vs ${small} at 300`);
    });

    test('query accounting is exact and never exceeds the budget', async () => {
      for (const budget of [0, 1, 7, 150, 433]) {
        const spy = new SpyOracle(base, sample.labels[3]);
        const oracle = new CountingOracle(spy, sample.labels[3], budget);
        const r = await attack.run(oracle, image(3), { seed: 3 });
        assert.equal(r.queries.total, spy.inputs, `budget ${budget}: reported vs made`);
        assert.ok(spy.inputs <= budget, `budget ${budget}: spent ${spy.inputs}`);
        assert.equal(r.queries.bad, spy.wrong);
        const phases = Object.values(r.queries.perPhase);
        assert.equal(
          phases.reduce((s, p) => s + p.queries, 0),
          r.queries.total,
        );
        assert.equal(
          phases.reduce((s, p) => s + p.bad, 0),
          r.queries.bad,
        );
        if (budget >= 150) assert.ok(r.queries.total > budget - 60, `budget ${budget}: only ${r.queries.total} used`);
        if (budget === 0) assert.equal(r.stopReason, 'budget');
      }
    });

    test('a randomized oracle (RS n = 1) neither crashes, hangs nor overspends', async () => {
      // σ = 0.1 keeps x0 mostly correctly classified, so the attacks do run under the noise;
      // σ = 0.25 often answers x0 itself wrongly: a boundary point at distance 0.
      let spent = 0;
      for (const [sigma, i] of [0, 1, 2, 3, 4, 5, 6, 7].flatMap((i) => [
        [0.1, i],
        [0.25, i],
      ])) {
        const noisy = base.withSmoothing({ sigma, n: 1, seed: 7 + i });
        const spy = new SpyOracle(noisy, sample.labels[i]);
        const oracle = new CountingOracle(spy, sample.labels[i], 600);
        const r = await attack.run(oracle, image(i), { seed: i });
        assert.equal(r.queries.total, spy.inputs);
        assert.ok(spy.inputs <= 600);
        if (sigma === 0.1) spent += spy.inputs;
        if (r.success) {
          assert.ok(r.adversarial!.every((v) => v >= 0 && v <= 1));
          assert.ok(r.l2! >= 0 && Number.isFinite(r.l2!));
        }
      }
      assert.ok(spent > 2400, `the attacks stopped early: ${spent} queries over 8 images at σ = 0.1`);
    });

    test('same seeds, same answers: a run is reproducible', async () => {
      const run = async () => {
        const noisy = base.withSmoothing({ sigma: 0.1, n: 5, seed: 11 });
        return attack.run(new CountingOracle(noisy, sample.labels[1], 400), image(1), { seed: 5 });
      };
      const [a, b] = [await run(), await run()];
      assert.equal(a.l2, b.l2);
      assert.deepEqual(a.queries, b.queries);
    });
  });
}

test('RayS keeps searching other sign vectors when the first ray meets no boundary (as the official code)', async () => {
  // On shipped image 69 the all-ones ray saturates to a white image the CNN still labels correctly.
  const oracle = new CountingOracle(base, sample.labels[69], 400);
  const r = await ATTACKS.rays.run(oracle, image(69), {});
  assert.equal(r.success, true, r.stopReason);
  // The saturated ray x0 + k·s (k ≥ 1) is the same image for every k: asked once, not ten times.
  assert.ok(r.queries.perPhase.init.queries <= 4, JSON.stringify(r.queries.perPhase));
});

test('every registered attack declares its options: type, default or optional, a one-line doc; run checks them', async () => {
  for (const [name, attack] of Object.entries(ATTACKS)) {
    assert.equal(attack.name, name, 'registered under its own name');
    assert.ok(attack.summary.length > 10 && !attack.summary.includes('\n'));
    for (const [option, schema] of Object.entries(attack.options.shape)) {
      assert.ok(schema.description && !schema.description.includes('\n'), `${name}.${option}: one-line doc`);
      // Every option has a default or is optional: an empty object parses.
    }
    const defaults = attack.options.parse({});
    assert.ok(['l2', 'linf'].includes(attack.metric(defaults as never)));
    // An unknown option is an error, not silently ignored (budget 0: no query is made).
    await assert.rejects(attack.run(new CountingOracle(base, sample.labels[0], 0), image(0), { noSuchOption: 1 } as never), /noSuchOption/);
  }
  await assert.rejects(ATTACKS.hsja.run(new CountingOracle(base, sample.labels[0], 0), image(0), { constraint: 'l7' as never }), /constraint/);
});
