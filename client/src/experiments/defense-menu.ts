// "The defense menu" (records/defense-menu.ts): every defense setting against every attacker on the
// same images, one model and one budget. Per setting a deployment (its defense chain) is created
// through the admin API, and for a setting with a detector a twin without it: every final point is
// asked again there (or on the setting itself when it has no detector) by a key that is not the
// attacker's, `confirm` times where the answers are random (its level P_a), once otherwise (an
// attack that decided on blinded queries may hold a point the endpoint does not answer wrongly). Per attack run, fresh client keys (one, or k for a many-account
// attacker) with the budget set on the server too: a detector scoped per key starts from nothing,
// the server's usage of exactly those keys is the attack's, and no key can be charged past it.
// Keys are revoked when the run ends and deployments removed with the run (runPreset).
import { randomBytes } from 'node:crypto';
import { findModel, loadCatalog } from '@rs-arena/shared/catalog';
import { runAttack } from '../attack-run.js';
import { type AttackName, decidesAtLevel, isAttackName } from '../attacks/index.js';
import { BENIGN_PARTS } from '../natural-changes.js';
import { BudgetExhausted, type Oracle, QueryRefused } from '../oracle.js';
import { HttpOracle } from '../oracle-http.js';
import { Ticker } from '../progress.js';
import { type ExperimentContext, inputsFor, pool, resultsFile } from './context.js';
import { checkAttack } from './assessed-attack.js';
import {
  type DefenseMenuConfig,
  type DefenseMenuRecord,
  type DefenseSetting,
  type MenuAttackRecord,
  type MenuAttackTask,
  type MenuAttacker,
  type MenuSettingRecord,
  answersAreRandom,
  attackOptionsOf,
  defenseMenu,
  hasDetector,
  menuAttackKey,
  menuVersion,
  runnerVersion,
  menuAttackTasks,
  menuSettingKey,
  sendsBenign,
  withoutScreens,
} from './records/defense-menu.js';
import { Adaptive } from '../adaptive.js';

/** The config schema, with attack names, options and adaptive layers checked against the registries. */
export const CheckedDefenseMenuConfig = defenseMenu.config.superRefine((c, ctx) => {
  c.attackers.forEach((a, i) => {
    const levelled = isAttackName(a.attack) && decidesAtLevel(a.attack);
    checkAttack(ctx, a.attack, ['attackers', i, 'attack']);
    if (isAttackName(a.attack)) checkAttack(ctx, a.attack, ['attackers', i, 'options'], attackOptionsOf(a, c.Pa, levelled));
    if (a.options && 'Pa' in a.options) ctx.addIssue({ code: 'custom', path: ['attackers', i, 'options', 'Pa'], message: "the level is the experiment's Pa" });
    if (a.adaptive) {
      const r = Adaptive.safeParse(a.adaptive);
      if (!r.success)
        for (const issue of r.error.issues)
          ctx.addIssue({ code: 'custom', path: ['attackers', i, 'adaptive', ...issue.path.map(String)], message: issue.message });
    }
  });
});

/** An attacker's options as recorded and keyed: the noise-aware ones get the experiment's level. */
const optionsOf = (a: MenuAttacker, Pa: number) => attackOptionsOf(a, Pa, isAttackName(a.attack) && decidesAtLevel(a.attack));

export const taskKey = (t: MenuAttackTask) =>
  menuAttackKey({
    model: t.model,
    defense: t.setting.name,
    defenseSpec: t.setting.defense,
    attacker: t.attacker.name,
    attack: t.attacker.attack,
    attackOptions: optionsOf(t.attacker, t.Pa),
    adaptive: t.attacker.adaptive ?? null,
    budget: t.budget,
    seed: t.seed,
    image: t.image,
    Pa: t.Pa,
    confirm: t.confirm,
  });

/** A setting's deployment id (and its twin's, without the detector: `fresh`). */
const menuDeploymentId = (model: string, setting: string, fresh = false) => `dm-${model}-${setting}${fresh ? '-fresh' : ''}`.replace(/[^A-Za-z0-9._-]/g, '_');

/** What the attacker's wire saw, over every key of one run. */
export class Wire {
  sent = 0;
  refusedQueries = 0;
  refusedRequests = 0;
  firstDetection: number | null = null;
}

/**
 * The endpoint through one key, every query counted as it goes on the wire (a refused request's
 * queries too: the server charged them), refusals noted and passed on: the attack's own counting
 * (oracle.ts) and the adaptive layers (adaptive.ts) act on them. An independent count, beside the
 * attack's and the server's.
 */
export class WireOracle implements Oracle {
  constructor(
    readonly inner: Oracle,
    readonly wire: Wire,
  ) {}
  get inputShape() {
    return this.inner.inputShape;
  }
  get range() {
    return this.inner.range;
  }
  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    this.wire.sent += count;
    try {
      return await this.inner.predict(batch, count);
    } catch (err) {
      if (err instanceof QueryRefused) {
        this.wire.sent -= count - Math.min(count, err.charged);
        this.wire.refusedQueries += err.refused;
        this.wire.refusedRequests++;
        this.wire.firstDetection ??= this.wire.sent;
      } else if (err instanceof BudgetExhausted) this.wire.sent -= count - Math.min(count, err.charged);
      throw err;
    }
  }
}

interface SettingDeployments {
  id: string;
  /** Where final points are asked again: the twin without the detector, or the setting itself. */
  fresh: string;
}

/** A short random key id (unique per attempt: a rerun never meets an interrupted attempt's usage or fingerprints). */
const keyId = (prefix: string) => `${prefix}-${randomBytes(6).toString('hex')}`;

export async function runDefenseMenu(ctx: ExperimentContext, c: DefenseMenuConfig): Promise<DefenseMenuRecord[]> {
  const file = resultsFile(ctx, defenseMenu, c);
  // Its runs create keys and read usage through the admin API per run: they run here, not as queue jobs.
  if (ctx.tasks) ctx.log('defense-menu: runs here (its attacks create and revoke API keys per run), not on the queue');
  const entry = findModel(loadCatalog(), c.model);
  if (!entry) throw new Error(`defense-menu: no model "${c.model}" in the manifest`);
  const inputs = await inputsFor(ctx, c.model, Math.max(c.images, c.accuracyImages));
  const shape = inputs.shape;
  // Deployments, one by one (the admin API is not a race).
  const deployments = new Map<string, SettingDeployments>();
  for (const s of c.defenses) {
    const id = menuDeploymentId(c.model, s.name);
    if (await ctx.admin.ensureDeployment({ id, model: c.model, defense: s.defense as never, maxBatch: 4096, batchSize: 500 })) ctx.created?.add(id);
    let fresh = id;
    if (hasDetector(s.defense)) {
      fresh = menuDeploymentId(c.model, s.name, true);
      if (await ctx.admin.ensureDeployment({ id: fresh, model: c.model, defense: withoutScreens(s.defense) as never, maxBatch: 4096, batchSize: 500 }))
        ctx.created?.add(fresh);
    }
    deployments.set(s.name, { id, fresh });
  }
  // One key, unlimited, asks for fresh answers (not the attacker's: its budget is the attack's, and a detector scoped per key does not see it).
  const assessorId = keyId('dm-assessor');
  const assessor = await ctx.admin.createKey(assessorId, 'client');
  const freshOracles = new Map<string, Promise<HttpOracle>>();
  const freshOracle = (id: string) => {
    let o = freshOracles.get(id);
    if (!o) freshOracles.set(id, (o = HttpOracle.connect({ endpoint: ctx.endpoint, key: assessor.secret, deployment: id, connections: 2 })));
    return o;
  };
  try {
    // What a benign user sees of each setting: clean accuracy and, for a detector, the benign stream.
    const settingTicker = new Ticker('defense-menu settings', c.defenses.length);
    for (const s of c.defenses) {
      const key = menuSettingKey({ model: c.model, defense: s.name, defenseSpec: s.defense, images: c.accuracyImages, benign: sendsBenign(c, s) });
      const done = file.get(key);
      if (done && done.menuVersion === runnerVersion()) {
        settingTicker.tick(`${s.name} (resumed)`, true);
        continue;
      }
      const r = await measureSetting(
        ctx,
        c,
        s,
        deployments.get(s.name)!.id,
        inputs.images.slice(0, c.accuracyImages).map((i) => ({ x: i.values, label: i.label! })),
        shape,
      );
      file.add({ ...r, key });
      const acc = r.correct.filter(Boolean).length;
      settingTicker.tick(
        `${s.name}: clean ${acc}/${r.correct.length}${r.benign ? `, benign flagged ${Object.values(r.benign).reduce((a, p) => a + p.flagged, 0)}` : ''}`,
      );
    }
    // The attacks, `concurrency` at a time.
    const tasks = menuAttackTasks(c);
    const ticker = new Ticker('defense-menu attacks', tasks.length);
    await pool(tasks, ctx.concurrency, async (t) => {
      const key = taskKey(t);
      const done = file.get(key);
      if (done && (ctx.keepStale || done.menuVersion === menuVersion(t.attacker.attack))) return ticker.tick(`${key} (resumed)`, true);
      const img = inputs.images[t.image];
      const d = deployments.get(t.setting.name)!;
      const r = await attackCell(ctx, t, d, img.values, img.label!, await freshOracle(d.fresh));
      file.add({ ...r, key });
      ticker.tick(describe(r));
    });
  } finally {
    for (const o of freshOracles.values()) await (await o).close();
    await ctx.admin.removeKey(assessorId);
  }
  return defenseMenu.select!(file.all(), c);
}

const describe = (r: Omit<MenuAttackRecord, 'key'>) =>
  `${r.defense} × ${r.attacker} #${r.image}: ${r.misclassified ? 'misclassified' : r.success ? `L2 ${r.l2!.toFixed(3)}` : r.stopReason}` +
  `${r.firstDetection !== null ? `, detected at ${r.firstDetection}` : ''}${r.fresh ? `, fresh ${r.fresh.adversarial}/${r.fresh.asked}` : ''}, sent ${r.sent} = server ${r.server.queries}`;

/** Clean accuracy (one query per image, as a benign user sends them) and the benign stream, through one fresh key. */
async function measureSetting(
  ctx: ExperimentContext,
  c: DefenseMenuConfig,
  s: DefenseSetting,
  deployment: string,
  images: { x: Float32Array; label: number }[],
  shape: [number, number, number],
): Promise<Omit<MenuSettingRecord, 'key'>> {
  const id = keyId('dm-benign');
  const k = await ctx.admin.createKey(id, 'client');
  const oracle = await HttpOracle.connect({ endpoint: ctx.endpoint, key: k.secret, deployment, connections: 2 });
  try {
    const ask = async (x: Float32Array): Promise<number | null> => {
      try {
        return (await oracle.predict(x.slice(), 1))[0];
      } catch (err) {
        if (err instanceof QueryRefused) return null;
        throw err;
      }
    };
    const correct: boolean[] = [];
    let refused = 0;
    const benign = sendsBenign(c, s) ? ({} as Record<string, { queries: number; flagged: number }>) : null;
    for (const part of benign ? BENIGN_PARTS : BENIGN_PARTS.slice(0, 1)) {
      let flagged = 0;
      for (const im of images) {
        const label = await ask(await part.make(im.x, shape));
        if (label === null) flagged++;
        if (part.name === 'original') correct.push(label === im.label);
      }
      if (part.name === 'original') refused = flagged;
      if (benign) benign[part.name] = { queries: images.length, flagged };
    }
    const usage = (await ctx.admin.allUsage()).find((u) => u.key.id === id)?.deployments.find((u) => u.deployment === deployment);
    return {
      kind: 'setting',
      model: c.model,
      defense: s.name,
      defenseSpec: s.defense,
      random: answersAreRandom(s.defense),
      correct,
      refused,
      benign,
      forwardPasses: usage?.forwardPasses ?? 0,
      queries: usage?.queries ?? 0,
      menuVersion: runnerVersion(),
    };
  } finally {
    await oracle.close();
    await ctx.admin.removeKey(id);
  }
}

/** One attacker on one image against one setting: fresh keys, the attack through its layers, both counts, fresh answers. */
async function attackCell(
  ctx: ExperimentContext,
  t: MenuAttackTask,
  d: SettingDeployments,
  x0: Float32Array,
  label: number,
  fresh: HttpOracle,
): Promise<Omit<MenuAttackRecord, 'key'>> {
  const adaptive = t.attacker.adaptive ? Adaptive.parse(t.attacker.adaptive) : undefined;
  const k = adaptive?.accounts?.keys ?? 1;
  // Each key's server budget: the attack's share (the client books the total; no key can be charged past its share).
  const perKey = adaptive?.accounts?.perKeyBudget ?? Math.ceil(t.budget / k);
  const ids = Array.from({ length: k }, () => keyId('dm-attack'));
  const wire = new Wire();
  const oracles: HttpOracle[] = [];
  try {
    for (const id of ids) {
      const key = await ctx.admin.createKey(id, 'client', { [d.id]: perKey });
      oracles.push(await HttpOracle.connect({ endpoint: ctx.endpoint, key: key.secret, deployment: d.id, connections: 2 }));
    }
    const wired = oracles.map((o) => new WireOracle(o, wire));
    const attack = t.attacker.attack as AttackName;
    const attackOptions = optionsOf(t.attacker, t.Pa);
    // The attack, through the adaptive layers (adaptive.ts) when the attacker has them; a refusal ends a plain one (stop reason `refused`).
    const r = await runAttack({
      oracle: wired[0],
      pool: adaptive?.accounts ? wired : undefined,
      adaptive,
      attack,
      options: attackOptions,
      x0,
      label,
      budget: t.budget,
      seed: t.seed,
    });
    // The server's count of exactly these keys on the setting's deployment.
    const usage = (await ctx.admin.allUsage()).filter((u) => ids.includes(u.key.id)).flatMap((u) => u.deployments.filter((x) => x.deployment === d.id));
    const detections = hasDetector(t.setting.defense)
      ? (await ctx.admin.detections(d.id)).filter((x) => ids.includes(x.key)).reduce((a, x) => a + x.detections, 0)
      : null;
    let freshAnswers: MenuAttackRecord['fresh'] = null;
    if (r.adversarial) {
      const asked = answersAreRandom(t.setting.defense) ? t.confirm : 1;
      const batch = new Float32Array(r.adversarial.length * asked);
      for (let i = 0; i < asked; i++) batch.set(r.adversarial, i * r.adversarial.length);
      const labels = await fresh.predict(batch, asked);
      freshAnswers = { asked, adversarial: labels.filter((l) => l >= 0 && l !== label).length };
    }
    return {
      ...r.run,
      // As the config gave them (the key's), the resolved ones are in resolvedOptions.
      attackOptions,
      kind: 'attack',
      model: t.model,
      defense: t.setting.name,
      defenseSpec: t.setting.defense,
      attacker: t.attacker.name,
      adaptive: t.attacker.adaptive ?? null,
      image: t.image,
      label,
      Pa: t.Pa,
      confirm: t.confirm,
      random: answersAreRandom(t.setting.defense),
      wallMs: Math.round(r.run.wallMs),
      sent: wire.sent,
      refused: { queries: wire.refusedQueries, requests: wire.refusedRequests },
      firstDetection: wire.firstDetection,
      stoppedByDetection: r.run.stopReason === 'refused' || r.run.stopReason === 'suspended',
      server: {
        queries: usage.reduce((a, u) => a + u.queries, 0),
        forwardPasses: usage.reduce((a, u) => a + (u.forwardPasses ?? 0), 0),
        rejected: usage.reduce((a, u) => a + u.rejected, 0),
        detections,
        keys: k,
      },
      fresh: freshAnswers,
      menuVersion: menuVersion(t.attacker.attack),
    };
  } finally {
    for (const o of oracles) await o.close();
    for (const id of ids) await ctx.admin.removeKey(id);
  }
}
