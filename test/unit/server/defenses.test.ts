// The contract every registered defense keeps (run over the registry, so a new defense is checked
// as soon as it is registered), and the chain: settings validated by the defense's own schema with
// the field named, impossible chains refused, screens in front of the answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeploymentSpec } from '@rs-arena/shared/api';
import { DeploymentSpec as SpecSchema } from '@rs-arena/shared/api';
import { registeredDefenses } from '../../../server/src/defenses/index.js';
import { createChain, resolveChain } from '../../../server/src/defense-chain.js';
import { DefenseSpecError, QueryRefused, type DefenseContext, type ScoredClassifier } from '../../../server/src/defense.js';
import { Scheduler } from '../../../server/src/scheduler.js';
import { MemoryDefenseState } from '../../../server/src/state/defense-state.js';

/** f(x) = [mean(x) > ½] over 3 classes, with softmax-like probabilities that grow with the distance to ½. */
class Toy implements ScoredClassifier {
  readonly classes = 3;
  readonly inputSize = 64;
  passes = 0;
  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    this.passes += count;
    return Int32Array.from({ length: count }, (_, i) => (this.mean(batch, i) > 0.5 ? 1 : 0));
  }
  async probabilities(batch: Float32Array, count: number): Promise<Float32Array> {
    this.passes += count;
    const out = new Float32Array(count * 3);
    for (let i = 0; i < count; i++) {
      const p = 1 / (1 + Math.exp(-40 * (this.mean(batch, i) - 0.5)));
      out.set([(1 - p) * 0.98, p * 0.98, 0.02], i * 3);
    }
    return out;
  }
  private mean(batch: Float32Array, i: number): number {
    let s = 0;
    for (let j = 0; j < this.inputSize; j++) s += batch[i * this.inputSize + j];
    return s / this.inputSize;
  }
}

const spec = (extra: Record<string, unknown>): DeploymentSpec => SpecSchema.parse({ id: 'd', model: 'toy', ...extra });

function context(model = new Toy(), state = new MemoryDefenseState()): DefenseContext & { detectedCount: number } {
  const ctx = {
    deployment: 'd',
    model,
    range: [0, 1] as const,
    scheduler: new Scheduler(model, { batchSize: 32 }),
    state,
    detectedCount: 0,
    detected: (c: number) => void (ctx.detectedCount += c),
  };
  return ctx;
}

const inputs = (count: number, seed = 1) => {
  const xs = new Float32Array(count * 64);
  for (let i = 0; i < count; i++) for (let j = 0; j < 64; j++) xs[i * 64 + j] = ((Math.sin(seed * 7919 + i * 104729 + j * 31) + 1) / 2) * 0.9;
  return xs;
};

for (const definition of registeredDefenses()) {
  const stage = { name: definition.name, ...definition.example };
  // A screen is tested in front of the plain model.
  const chain = definition.kind === 'screen' ? [stage, 'none'] : [stage];

  test(`contract: ${definition.name} — its settings are its own, strict, validated with the field named`, () => {
    assert.equal(definition.settings.safeParse(definition.example).success, true, 'its example parses');
    assert.throws(
      () => resolveChain(spec({ defense: [{ ...stage, bogusSetting: 1 }] })),
      (err: Error) => err instanceof DefenseSpecError && /^invalid settings of defense "\w+": defense\[0\]\.bogusSetting: unknown field/.test(err.message),
    );
    for (const [field, value] of Object.entries(definition.example)) {
      if (typeof value !== 'number') continue;
      assert.throws(
        () => resolveChain(spec({ defense: [{ ...stage, [field]: -1e9 }] })),
        (err: Error) => err instanceof DefenseSpecError && err.message.includes(`: defense[0].${field}: `),
        `${field} = -1e9`,
      );
    }
  });

  test(`contract: ${definition.name} — predict answers one label per input, at most its stated cost, refusals typed; removal forgets its state`, async () => {
    const model = new Toy();
    const state = new MemoryDefenseState();
    const ctx = context(model, state);
    const defense = await createChain(resolveChain(spec({ defense: chain })), ctx);
    for (const count of [1, 5]) {
      const before = model.passes;
      const xs = inputs(count, count);
      let labels: Int32Array;
      try {
        labels = await defense.predict.run(xs, count, undefined, { key: 'k1' });
      } catch (err) {
        assert.ok(err instanceof QueryRefused, `only a typed refusal may stop a query: ${err}`);
        continue;
      }
      assert.equal(labels.length, count);
      for (const l of labels) assert.ok(l >= -1 && l < model.classes, `label ${l}`);
      assert.ok(
        model.passes - before <= defense.predict.cost(count, undefined),
        `${model.passes - before} passes, cost ${defense.predict.cost(count, undefined)}`,
      );
    }
    assert.equal(typeof defense.sigma, 'number');
    assert.ok(Number.isInteger(defense.defaultN) && defense.defaultN >= 1);
    await defense.removed?.();
    assert.equal((await state.counters('detections')).size, 0, 'no counters after removal');
    assert.equal(state.size('k1') + state.size('*'), 0, 'no fingerprints after removal');
  });
}

test('chain: old specs keep their meaning (no defense: σ decides; one name: settings from the top-level fields)', () => {
  assert.deepEqual(
    resolveChain(spec({ sigma: 0.25, n: 10 })).map((s) => s.definition.name),
    ['gaussian'],
  );
  assert.deepEqual(
    resolveChain(spec({})).map((s) => s.definition.name),
    ['none'],
  );
  const [g] = resolveChain(spec({ defense: 'gaussian', sigma: 0.5, n: 7, seed: 3, rule: 'predict' }));
  assert.deepEqual(g.settings, { sigma: 0.5, n: 7, rule: 'predict', alpha: 0.001, batchSize: 500, seed: 3 });
  assert.throws(() => resolveChain(spec({ defense: 'gaussian' })), /defense "gaussian": sigma: needs sigma > 0/);
  assert.throws(() => resolveChain(spec({ defense: 'none', sigma: 0.1 })), /"none" adds no noise/);
});

test('chain: unknown defenses, bad settings and impossible chains are refused naming the field', () => {
  assert.throws(() => resolveChain(spec({ defense: [{ name: 'laplace' }] })), /defense\[0\]: unknown defense "laplace" \(known: none, gaussian/);
  assert.throws(() => resolveChain(spec({ defense: [{ name: 'gaussian', sigma: 0.25, n: 0 }] })), /defense\[0\]\.n:/);
  assert.throws(() => resolveChain(spec({ defense: [{ name: 'gaussian', n: 10 }] })), /defense\[0\]\.sigma:/);
  assert.throws(
    () => resolveChain(spec({ defense: [{ name: 'gaussian', sigma: 0.25 }, 'none'] })),
    /defense\[1\]: "none" answers queries, as "gaussian" \(defense\[0\]\) does/,
  );
});

test('the Gaussian defense draws its own noise: a seeded deployment answers as one sequential draw of its stream', async () => {
  const { NoiseSource } = await import('@rs-arena/shared/noise');
  const model = new Toy();
  const defense = await createChain(resolveChain(spec({ defense: [{ name: 'gaussian', sigma: 0.3, n: 25, seed: 11 }] })), context(model));
  const xs = inputs(3, 4);
  const labels = await defense.predict.run(xs, 3, undefined, {});
  const ref = NoiseSource.seeded(11);
  const expected = [0, 1, 2].map((i) => {
    const copies = ref.fillNormal(new Float32Array(25 * 64), xs.subarray(i * 64, (i + 1) * 64), 0.3);
    const votes = [0, 0, 0];
    for (let c = 0; c < 25; c++) {
      let s = 0;
      for (let j = 0; j < 64; j++) s += copies[c * 64 + j];
      votes[s / 64 > 0.5 ? 1 : 0]++;
    }
    return votes[1] > votes[0] ? 1 : 0;
  });
  assert.deepEqual(Array.from(labels), expected);
});

test('gated noise: confident inputs are answered by the model in one pass, unsure ones through RS (n more passes)', async () => {
  const model = new Toy();
  const defense = await createChain(resolveChain(spec({ defense: [{ name: 'gated', tau: 0.9, sigma: 0.5, n: 30, seed: 1 }] })), context(model));
  const confident = new Float32Array(2 * 64);
  confident.fill(0.9, 0, 64); // mean 0.9: p(class 1) ≈ 0.98
  confident.fill(0.1, 64); // mean 0.1: p(class 0) ≈ 0.98
  let before = model.passes;
  const labels = await defense.predict.run(confident, 2, undefined, {});
  assert.deepEqual(Array.from(labels), [1, 0]);
  assert.equal(model.passes - before, 2, 'one pass each, no noise');
  assert.equal(defense.predict.spent!(labels, 2, undefined), 2);
  // Mean 0.51: p ≈ 0.59 < τ, so RS answers: with σ = 0.5 (σ/8 per mean) its vote is near a coin flip.
  const unsure = new Float32Array(64).fill(0.51);
  before = model.passes;
  const answers = new Set<number>();
  for (let r = 0; r < 20; r++) answers.add((await defense.predict.run(unsure, 1, undefined, {}))[0]);
  assert.equal(model.passes - before, 20 * 31);
  assert.deepEqual([...answers].sort(), [0, 1], 'noisy answers near the boundary');
  assert.equal(defense.votes, undefined);
  // A model without scores cannot be gated.
  const labelsOnly = new Toy() as Partial<Toy>;
  delete (labelsOnly as { probabilities?: unknown }).probabilities;
  Object.defineProperty(labelsOnly, 'probabilities', { value: undefined });
  await assert.rejects(createChain(resolveChain(spec({ defense: [{ name: 'gated', sigma: 0.25 }] })), context(labelsOnly as Toy)), /needs class scores/);
});

test("gated noise with a second model: the deployment's model gates and answers confident inputs, the smoothing model votes on the unsure ones", async () => {
  const own = new Toy();
  // The "noise-trained" model: always class 2, so every answer below τ is visibly its own.
  const smoother = new Toy();
  smoother.predict = async (_batch, count) => {
    smoother.passes += count;
    return new Int32Array(count).fill(2);
  };
  const asked: string[] = [];
  const modelById = async (id: string) => {
    asked.push(id);
    return { model: smoother, scheduler: new Scheduler(smoother, { batchSize: 32 }) };
  };
  const ctx = { ...context(own), modelById };
  const defense = await createChain(
    resolveChain(spec({ defense: [{ name: 'gated', tau: 0.9, sigma: 0.5, n: 7, seed: 1, smoothingModel: 'noise-trained' }] })),
    ctx,
  );
  assert.deepEqual(asked, ['noise-trained']);
  const xs = new Float32Array(3 * 64);
  xs.fill(0.9, 0, 64); // confident: class 1 by the own model
  xs.fill(0.51, 64, 128); // unsure: to the smoother
  xs.fill(0.1, 128); // confident: class 0
  const [ownBefore, smootherBefore] = [own.passes, smoother.passes];
  const labels = await defense.predict.run(xs, 3, undefined, {});
  assert.deepEqual(Array.from(labels), [1, 2, 0]);
  assert.equal(own.passes - ownBefore, 3, 'the gate: one pass of the own model per input');
  assert.equal(smoother.passes - smootherBefore, 7, 'n passes of the smoothing model for the one unsure input');
  assert.equal(defense.predict.spent!(labels, 3, undefined), 3 + 7);
  // A smoothing model with other classes or inputs, or none to be had, is refused naming the setting.
  const other = Object.assign(new Toy(), { classes: 5 }) as unknown as Toy;
  await assert.rejects(
    createChain(resolveChain(spec({ defense: [{ name: 'gated', sigma: 0.25, smoothingModel: 'five' }] })), {
      ...context(),
      modelById: async () => ({ model: other, scheduler: new Scheduler(other, {}) }),
    }),
    (err: Error) => err instanceof DefenseSpecError && /smoothingModel: "five" takes 64 input values and has 5 classes/.test(err.message),
  );
  await assert.rejects(
    createChain(resolveChain(spec({ defense: [{ name: 'gated', sigma: 0.25, smoothingModel: 'x' }] })), context()),
    /smoothingModel: another model can only be used by a deployment in a server/,
  );
});

test('input-deterministic RS: 100 repeats of one input get one answer, as does another replica; other inputs get fresh N(0, σ²) noise', async () => {
  const { KS_CRIT_001, ksScaled, moments } = await import('../../helpers/distribution-checks.js');
  const { normalCdf } = await import('@rs-arena/shared/stats');
  const state = new MemoryDefenseState();
  const det = await createChain(resolveChain(spec({ defense: [{ name: 'deterministic', sigma: 0.5, n: 5 }] })), context(new Toy(), state));
  const rand = await createChain(resolveChain(spec({ defense: [{ name: 'gaussian', sigma: 0.5, n: 5 }] })), context());
  const x = new Float32Array(64).fill(0.5);
  const detAnswers = new Set<number>();
  const randAnswers = new Set<number>();
  for (let r = 0; r < 100; r++) {
    detAnswers.add((await det.predict.run(x, 1, undefined, {}))[0]);
    randAnswers.add((await rand.predict.run(x, 1, undefined, {}))[0]);
  }
  assert.equal(detAnswers.size, 1, 'one answer over 100 repeats');
  assert.equal(randAnswers.size, 2, 'plain RS varies at the boundary (the test could tell)');
  // The same secret (a replica on the same store): the same votes; batching does not change them.
  const replica = await createChain(resolveChain(spec({ defense: [{ name: 'deterministic', sigma: 0.5, n: 5 }] })), context(new Toy(), state));
  const batch = inputs(7, 9);
  const votes = await det.votes!.run(batch, 7, { n: 50 }, {});
  const again = await replica.votes!.run(batch, 7, { n: 50 }, {});
  assert.deepEqual(Array.from(again.counts), Array.from(votes.counts));
  const alone = await replica.votes!.run(batch.subarray(3 * 64, 4 * 64), 1, { n: 50 }, {});
  assert.deepEqual(Array.from(alone.counts), Array.from(votes.counts.subarray(9, 12)), 'an input alone votes as in a batch');
  // The noise over many distinct inputs is N(0, σ²): record the copies the model sees.
  class Recorder extends Toy {
    copies: Float32Array[] = [];
    override async predict(batch: Float32Array, count: number) {
      this.copies.push(batch.slice(0, count * 64));
      return super.predict(batch, count);
    }
  }
  const rec = new Recorder();
  const d2 = await createChain(resolveChain(spec({ defense: [{ name: 'deterministic', sigma: 0.5, n: 4 }] })), context(rec));
  const xs = inputs(200, 3);
  await d2.votes!.run(xs, 200, { n: 4 }, {});
  const all = new Float32Array(rec.copies.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of rec.copies) all.set(c, (at += c.length) - c.length);
  // Copies come input by input, 4 each: subtract each input to get the noise, in units of σ.
  const z = all.map((v, j) => (v - xs[Math.floor(j / 256) * 64 + (j % 64)]) / 0.5);
  assert.ok(ksScaled(z, normalCdf) < KS_CRIT_001, `KS ${ksScaled(z, normalCdf)}`);
  const m = moments(z);
  assert.ok(Math.abs(m.mean) < 0.02 && Math.abs(m.variance - 1) < 0.03, JSON.stringify(m));
});

test('the chain in docs/operator.md ("Choosing a defense") is a valid spec: detector in front of gated noise', async () => {
  const { readFileSync } = await import('node:fs');
  const page = readFileSync(new URL('../../../docs/operator.md', import.meta.url), 'utf8');
  const section = page.slice(page.indexOf('## Choosing a defense'));
  const json = section.match(/```json\n([\s\S]*?)```/)![1];
  const stages = resolveChain(SpecSchema.parse(JSON.parse(json)));
  assert.deepEqual(
    stages.map((s) => [s.definition.name, s.definition.kind]),
    [
      ['blacklight', 'screen'],
      ['gated', 'answer'],
    ],
  );
});
