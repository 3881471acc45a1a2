// The adaptive attackers (client/src/adaptive.ts) against the Blacklight-style detector with its
// refuse policy, in-process: the server's own defense chain (blacklight in front of the model) behind
// an oracle that refuses as the route does (a detected query is charged and gets no answer:
// QueryRefused), each attacker through `runAttack`, as a campaign runs it. Per attacker: images
// where the attack was stopped by a refusal, success (the returned point checked on the model
// itself, and by the attacker's own verdict), median L2, queries, refused queries and OARS's
// queries-if-banned. Same images and seeds for every attacker (paired).
//
//   npm run bench:adaptive -- [--images 10] [--budget 2000] [--out results/bench-blinding/bench-adaptive.json]
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { findModel, loadCatalog, loadSample, resolveModel } from '@rs-arena/shared/catalog';
import { bootstrap, clopperPearsonInterval, quantile } from '@rs-arena/shared/stats';
import { OnnxModel } from '../server/src/model.js';
import { QueryRefused as ServerRefused, type Defense } from '../server/src/defense.js';
import { Adaptive } from '../client/src/adaptive.js';
import { runAttack } from '../client/src/attack-run.js';
import type { AttackName } from '../client/src/attacks/index.js';
import { QueryRefused, type Oracle } from '../client/src/oracle.js';
import { correctlyClassified, defenseOf } from './in-process-defense.js';
import { scriptArgs } from './args.js';

const args = scriptArgs('npm run bench:adaptive -- [options]', {
  images: { type: 'string', default: '10' },
  budget: { type: 'string', default: '2000' },
  out: { type: 'string', default: 'results/bench-blinding/bench-adaptive.json' },
});
const budget = Number(args.budget);
/** L2 radii at which success is counted (Fashion-MNIST, [0, 1] pixels, d = 784). */
const EPS = [1, 2, 3];
const log = (s: string) => process.stdout.write(s + '\n');

/** The endpoint as the route answers: the chain's refusal becomes the client's QueryRefused, charged. */
class Refusing implements Oracle {
  readonly inputShape;
  readonly range;
  constructor(
    private readonly model: OnnxModel,
    private readonly chain: Defense,
    /** The API key id the detector sees (its scope and suspension are per key). */
    private readonly key = 'attacker',
  ) {
    this.inputShape = model.inputShape;
    this.range = model.model.entry.input.range;
  }
  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    try {
      return await this.chain.predict.run(batch.subarray(0, count * this.model.inputSize), count, undefined, { key: this.key });
    } catch (err) {
      if (err instanceof ServerRefused) throw new QueryRefused(err.message, err.code, count, count);
      throw err;
    }
  }
}

const ATTACKERS: { name: string; attack: AttackName; options?: Record<string, unknown>; adaptive?: Adaptive; policy?: 'refuse' | 'suspend' }[] = [
  { name: 'hsja (plain)', attack: 'hsja' },
  { name: 'hsja blind 0.008', attack: 'hsja', adaptive: Adaptive.parse({ blind: { noise: 0.008 } }) },
  { name: 'hsja blind 0.008, δ = 0.1·dist', attack: 'hsja', options: { deltaFactor: 0.1 }, adaptive: Adaptive.parse({ blind: { noise: 0.008 } }) },
  { name: 'hsja rejection-aware', attack: 'hsja', adaptive: Adaptive.parse({ rejectionAware: {} }) },
  { name: 'hsja rejection-aware, δ = 0.1·dist', attack: 'hsja', options: { deltaFactor: 0.1 }, adaptive: Adaptive.parse({ rejectionAware: {} }) },
  { name: 'geoda-seq blind 0.008', attack: 'geoda-seq', adaptive: Adaptive.parse({ blind: { noise: 0.008 } }) },
  // Many accounts, against the detector's per-key scope (its default).
  { name: 'hsja, 10 keys spread', attack: 'hsja', adaptive: Adaptive.parse({ accounts: { keys: 10 } }) },
  {
    name: 'hsja rejection-aware, δ = 0.1·dist, 4 keys spread',
    attack: 'hsja',
    options: { deltaFactor: 0.1 },
    adaptive: Adaptive.parse({ rejectionAware: {}, accounts: { keys: 4 } }),
  },
  // The suspend policy (a key is refused everything after 3 detections): accounts fail over.
  {
    name: 'hsja rejection-aware, δ = 0.1·dist vs suspend (1 key)',
    attack: 'hsja',
    options: { deltaFactor: 0.1 },
    adaptive: Adaptive.parse({ rejectionAware: {} }),
    policy: 'suspend',
  },
  {
    name: 'hsja rejection-aware, δ = 0.1·dist vs suspend, 10 keys fail-over',
    attack: 'hsja',
    options: { deltaFactor: 0.1 },
    adaptive: Adaptive.parse({ rejectionAware: {}, accounts: { keys: 10, rotate: 'fail-over' } }),
    policy: 'suspend',
  },
];

const catalog = loadCatalog();
const model = await OnnxModel.load(resolveModel(catalog, findModel(catalog, 'fmnist-cnn')!), { maxBatch: 64 });
const size = model.inputSize;
const sample = loadSample(catalog);
const images = await correctlyClassified(model, sample, Number(args.images));
const chainFor = (policy: 'refuse' | 'suspend' = 'refuse') => defenseOf(model, [{ name: 'blacklight', policy }, 'none']);

const rows: Record<string, unknown>[] = [];
const runs: Record<string, unknown>[] = [];
for (const a of ATTACKERS) {
  const per: { refusedStop: boolean; success: boolean; attackSuccess: boolean; l2: number | null; queries: number; refused: number; ifBanned: number }[] = [];
  for (const i of images) {
    // A fresh deployment per image (a fresh key's history), as an attacker with one account per image.
    const chain = await chainFor(a.policy);
    const pool = Array.from({ length: a.adaptive?.accounts?.keys ?? 1 }, (_, k) => new Refusing(model, chain, `attacker-${k}`));
    const r = await runAttack({
      oracle: pool[0],
      pool: pool.length > 1 ? pool : undefined,
      attack: a.attack,
      options: a.options,
      x0: sample.images.slice(i * size, (i + 1) * size),
      label: sample.labels[i],
      budget,
      seed: i,
      adaptive: a.adaptive,
    });
    const checked = r.adversarial ? (await model.predict(r.adversarial, 1))[0] !== sample.labels[i] : false;
    const d = r.run.detection;
    const row = {
      refusedStop: r.run.stopReason === 'refused',
      success: checked,
      attackSuccess: r.run.success,
      l2: checked ? r.run.l2 : null,
      queries: r.run.queries.total,
      refused: r.run.queries.refused ?? 0,
      ifBanned: d?.queriesIfBanned ?? r.run.queries.total,
    };
    per.push(row);
    runs.push({
      attacker: a.name,
      image: i,
      stopReason: r.run.stopReason,
      maxNoise: d?.maxNoise ?? null,
      firstRefusedAt: r.run.queries.firstRefusedAt ?? null,
      accountsUsed: d?.accountsUsed ?? 1,
      accountsSuspended: d?.accountsSuspended ?? 0,
      ...row,
    });
  }
  const ok = per.filter((p) => p.success);
  const l2 = ok.map((p) => p.l2!);
  const l2ci = l2.length >= 2 ? bootstrap(l2, (s) => quantile(s as number[], 0.5)) : null;
  const row = {
    attacker: a.name,
    attack: a.attack,
    options: a.options ?? {},
    adaptive: a.adaptive ?? null,
    images: per.length,
    stoppedByRefusal: per.filter((p) => p.refusedStop).length,
    success: ok.length,
    successCi: clopperPearsonInterval(ok.length, per.length),
    successAt: Object.fromEntries(
      EPS.map((e) => {
        const k = ok.filter((p) => p.l2! <= e).length;
        return [String(e), { k, share: k / per.length, ci: clopperPearsonInterval(k, per.length) }];
      }),
    ),
    attackVerdict: per.filter((p) => p.attackSuccess).length,
    medianL2: l2ci?.value ?? (l2.length ? l2[0] : null),
    medianL2Ci: l2ci ? [l2ci.lo, l2ci.hi] : null,
    medianQueries: quantile(
      per.map((p) => p.queries),
      0.5,
    ),
    medianRefused: quantile(
      per.map((p) => p.refused),
      0.5,
    ),
    refusedTotal: per.reduce((s, p) => s + p.refused, 0),
    stoppedBySuspension: runs.filter((x) => x.attacker === a.name && x.stopReason === 'suspended').length,
    medianAccountsUsed: quantile(
      runs.filter((x) => x.attacker === a.name).map((x) => x.accountsUsed as number),
      0.5,
    ),
    medianQueriesIfBanned: quantile(
      per.map((p) => p.ifBanned),
      0.5,
    ),
  };
  rows.push(row);
  const f = (x: number | null | undefined, d = 2) => (x === null || x === undefined ? '—' : x.toFixed(d));
  log(
    `${a.name.padEnd(36)} stopped by refusal ${row.stoppedByRefusal}/${row.images}, by suspension ${row.stoppedBySuspension}; accounts used ${row.medianAccountsUsed} (median); success ${row.success}/${row.images} [${f(row.successCi[0])}, ${f(row.successCi[1])}] (attacker's verdict ${row.attackVerdict}); at L2 ≤ ${EPS.map((e) => `${e}: ${row.successAt[String(e)].k}`).join(', ')}; ` +
      `median L2 ${f(row.medianL2)} [${f(row.medianL2Ci?.[0])}, ${f(row.medianL2Ci?.[1])}]; median queries ${row.medianQueries}, refused ${row.medianRefused} (total ${row.refusedTotal}), if banned ${row.medianQueriesIfBanned}`,
  );
}
await model.close();
const commit = (() => {
  try {
    return execSync('git rev-parse HEAD', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(
  args.out,
  JSON.stringify(
    {
      bench: 'adaptive',
      commit,
      date: new Date().toISOString(),
      options: args,
      model: model.id,
      detector: { name: 'blacklight', policy: 'refuse (suspend where the attacker says)', defaults: true },
      images,
      rows,
      runs,
    },
    null,
    2,
  ) + '\n',
);
log(`wrote ${args.out}`);
