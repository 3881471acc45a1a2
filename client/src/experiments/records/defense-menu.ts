// "The defense menu", its data (issue 19): on one base model and one query budget, every defense
// setting (a deployment's defense chain: undefended, RS, RND, gated noise, input-deterministic RS,
// a Blacklight-style detector alone and in front of RS) against every attacker (plain, noise-aware,
// and the adaptive ones of client/src/adaptive.ts: blinded, rejection-aware, many accounts), on the
// same images. Two kinds of record share one results file:
//  - `setting`: per defense setting, what a benign user sees: the clean answer on each of the first
//    `accuracyImages` shipped test images (a refused query counts as wrong), and for a detector the
//    benign stream (the same images again under mild natural changes) and the share of it flagged;
//  - `attack`: one attacker on one image against one setting, every query counted on both sides
//    (the attacker's wire count beside the server's usage of every key it used), refusals and the
//    first detection, and the final point asked again without the detector by another key: where
//    the answers are random, `confirm` fresh answers (the level P_a of the paper's eq. 4, measured
//    directly on g), otherwise once (a point an attack accepted on blinded queries may not be
//    adversarial itself).
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { attackCodeVersion, canonicalCode } from '../../provenance.js';
import { AttackRun, canonical } from '../../record.js';
import { defineExperiment } from './experiment.js';
import { imageSeed } from './distortion.js';

const Count = z.number().int().positive();
const Level = z.number().gt(0).lt(1);
const Name = z.string().regex(/^[a-z][a-z0-9+.-]{0,40}$/, 'a short name: lowercase letters, digits, dot, dash or plus');

/** A defense stage as the deployment spec takes it: a registered name, or `{name, ...settings}` (the server validates). */
const Stage = z.union([z.string().min(1), z.object({ name: z.string().min(1) }).catchall(z.unknown())]);

export const DefenseSetting = z.strictObject({
  /** The setting's name in tables and figures (e.g. "rs", "detector+rs"). */
  name: Name,
  /** One line for the table: what the setting is. */
  label: z.string().min(1).max(80),
  /** The deployment's defense chain (docs/architecture.md, "A defense"): screens first, then the defense that answers. */
  defense: z.array(Stage).min(1).max(8),
});
export type DefenseSetting = z.output<typeof DefenseSetting>;

export const MenuAttacker = z.strictObject({
  name: Name,
  /** The attack (checked against the attack registry by the runner) and its options, as `--option` would give them. */
  attack: z.string().min(1),
  options: z.record(z.string(), z.unknown()).optional(),
  /** What it does about a stateful detector (client/src/adaptive.ts `Adaptive`, checked by the runner); absent: nothing (a plain attacker, stopped by its first refusal). */
  adaptive: z.record(z.string(), z.unknown()).optional(),
});
export type MenuAttacker = z.output<typeof MenuAttacker>;

export const DefenseMenuConfig = z
  .strictObject({
    /** The one base model every setting serves. */
    model: z.string().min(1),
    defenses: z.array(DefenseSetting).min(1),
    attackers: z.array(MenuAttacker).min(1),
    /** Test images attacked (the first ones of the shipped sample), the same in every cell. */
    images: Count,
    /** Queries per attack, over every key it uses and refused queries included. */
    budget: Count,
    /** L2 radii at which success is read; `epsilon` (one of them) is the one the figure and the findings use. */
    epsilons: z.array(z.number().positive()).min(1),
    epsilon: z.number().positive(),
    /** The level P_a: a final point on a random endpoint counts when at least this share of fresh answers is wrong; also the noise-aware attacks' level. */
    Pa: Level,
    /** Fresh answers asked on each final point where the answers are random (once elsewhere), on the setting without its detector by a key that is not the attacker's (not its budget). */
    confirm: Count,
    /** Shipped test images whose clean answer is asked per setting (clean accuracy). */
    accuracyImages: Count,
    /** Send detector settings the benign stream (the accuracy images again under mild natural changes) and count the flagged queries. */
    benign: z.boolean().default(true),
  })
  .superRefine((c, ctx) => {
    if (!c.epsilons.includes(c.epsilon)) ctx.addIssue({ code: 'custom', path: ['epsilon'], message: `must be one of epsilons (${c.epsilons.join(', ')})` });
    if (c.accuracyImages < c.images)
      ctx.addIssue({
        code: 'custom',
        path: ['accuracyImages'],
        message: `must be at least images (${c.images}): clean accuracy is read on the attacked images too`,
      });
    const dup = (names: string[]) => names.find((n, i) => names.indexOf(n) !== i);
    const d = dup(c.defenses.map((x) => x.name));
    if (d) ctx.addIssue({ code: 'custom', path: ['defenses'], message: `two settings are named "${d}"` });
    const a = dup(c.attackers.map((x) => x.name));
    if (a) ctx.addIssue({ code: 'custom', path: ['attackers'], message: `two attackers are named "${a}"` });
  });
export type DefenseMenuConfig = z.output<typeof DefenseMenuConfig>;

/** The name of a stage. */
const stageName = (s: z.output<typeof Stage>): string => (typeof s === 'string' ? s : s.name);
/** Defenses whose answers to one input vary from query to query (fresh noise per query). */
const RANDOM_ANSWERS = new Set(['gaussian', 'gated']);
/** Screens: stages that look at a query in front of the answer (server/src/defenses/, `screenDefense`). */
const SCREENS = new Set(['blacklight']);

/** Whether a chain's answers are random: its answering stage draws fresh noise per query (input-deterministic RS does not). */
export const answersAreRandom = (defense: DefenseSetting['defense']): boolean => defense.some((s) => RANDOM_ANSWERS.has(stageName(s)));
/** Whether a chain has a detector in front. */
export const hasDetector = (defense: DefenseSetting['defense']): boolean => defense.some((s) => SCREENS.has(stageName(s)));
/** The chain without its screens: what answers a query the detector let through (the fresh answers' deployment). */
export const withoutScreens = (defense: DefenseSetting['defense']): DefenseSetting['defense'] => {
  const rest = defense.filter((s) => !SCREENS.has(stageName(s)));
  return rest.length ? rest : ['none'];
};

/** What the server counted for the keys of one attack. */
const ServerCount = z.object({
  /** Queries charged on the setting's deployment, over every key of the attack (refused ones included). */
  queries: z.number().int(),
  forwardPasses: z.number().int(),
  /** Requests refused for budget (429), in queries. */
  rejected: z.number().int(),
  /** Queries the detector flagged for these keys (its own count), null without a detector. */
  detections: z.number().int().nullable(),
  keys: z.number().int(),
});

export const MenuAttackRecord = AttackRun.extend({
  kind: z.literal('attack'),
  model: z.string(),
  defense: z.string(),
  defenseSpec: z.array(Stage),
  attacker: z.string(),
  adaptive: z.record(z.string(), z.unknown()).nullable(),
  image: z.number().int(),
  label: z.number().int(),
  Pa: z.number(),
  confirm: z.number().int(),
  /** The setting's answers are random (RS, RND, gated): the final point's level is measured on fresh answers. */
  random: z.boolean(),
  /** Queries the attacker sent over HTTP, every key, refused ones included (what the server should have charged). */
  sent: z.number().int(),
  /** Queries in requests the detector refused (403), and those requests. */
  refused: z.object({ queries: z.number().int(), requests: z.number().int() }),
  /** Queries sent up to and including the first refused request; null: never refused. */
  firstDetection: z.number().int().nullable(),
  /** The attack ended because a refusal reached it (a plain attacker, or an adaptive one out of retries or keys). */
  stoppedByDetection: z.boolean(),
  server: ServerCount,
  /** The final point asked again (without the detector, another key): answers and how many were wrong; `confirm` answers where random, else 1 (null: no final point). */
  fresh: z.object({ asked: z.number().int(), adversarial: z.number().int() }).nullable(),
  /** Which code made the record: the attack's version (codeVersion) and that of the adaptive layers and this runner. */
  menuVersion: z.string(),
});
export type MenuAttackRecord = z.output<typeof MenuAttackRecord>;

export const MenuSettingRecord = z.object({
  key: z.string(),
  kind: z.literal('setting'),
  model: z.string(),
  defense: z.string(),
  defenseSpec: z.array(Stage),
  random: z.boolean(),
  /** Per accuracy image (0…k−1): answered with its true label (a refused query counts as wrong). */
  correct: z.array(z.boolean()),
  /** Accuracy images whose clean query was refused. */
  refused: z.number().int(),
  /** The benign stream's flagged queries, per part (original images, then each natural change), for a detector. */
  benign: z.record(z.string(), z.object({ queries: z.number().int(), flagged: z.number().int() })).nullable(),
  /** Forward passes the server made for the benign key (clean queries and the benign stream). */
  forwardPasses: z.number().int(),
  queries: z.number().int(),
  menuVersion: z.string(),
});
export type MenuSettingRecord = z.output<typeof MenuSettingRecord>;

export const DefenseMenuRecord = z.discriminatedUnion('kind', [MenuAttackRecord, MenuSettingRecord]);
export type DefenseMenuRecord = z.output<typeof DefenseMenuRecord>;

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * The files that decide what a run of the menu does beside its attack: this runner, its records,
 * the benign stream's changes and the adaptive layers. Their own contents, not their import closure:
 * the attack's version (provenance.ts) already covers the run around the attack, and a closure
 * reaching the HTTP stack and the API schemas would call every record stale at each unrelated change.
 */
const RUNNER_FILES = ['experiments/defense-menu.ts', 'experiments/records/defense-menu.ts', 'natural-changes.ts', 'adaptive.ts'];
let version: string | undefined;
/** The code of the runner: "menu:" and 12 hex digits of a sha256 over RUNNER_FILES' paths and canonical code (provenance.ts). */
export function runnerVersion(): string {
  version ??= (() => {
    const h = createHash('sha256');
    for (const f of RUNNER_FILES)
      h.update(f)
        .update('\0')
        .update(canonicalCode(join(SRC, f)))
        .update('\0');
    return `menu:${h.digest('hex').slice(0, 12)}`;
  })();
  return version;
}
/** An attack record's code: the attack's version beside the runner's. A record of other code is stale: a rerun replaces it. */
export const menuVersion = (attack: string): string => `${attackCodeVersion(attack)}+${runnerVersion()}`;

export interface MenuAttackTask {
  model: string;
  setting: DefenseSetting;
  attacker: MenuAttacker;
  image: number;
  budget: number;
  seed: number;
  Pa: number;
  confirm: number;
}

/** The options an attacker's attack is given: its own, and the experiment's level for a noise-aware one (`levelled`: its options have Pa). */
export const attackOptionsOf = (a: MenuAttacker, Pa: number, levelled: boolean): Record<string, unknown> =>
  levelled ? { ...a.options, Pa } : { ...a.options };

export const menuAttackKey = (t: {
  model: string;
  defense: string;
  defenseSpec: unknown;
  attacker: string;
  attack: string;
  attackOptions: Record<string, unknown>;
  adaptive: unknown;
  budget: number;
  seed: number;
  image: number;
  Pa: number;
  confirm: number;
}) =>
  [
    'attack',
    t.model,
    t.defense,
    canonical(t.defenseSpec),
    t.attacker,
    t.attack,
    canonical(t.attackOptions),
    canonical(t.adaptive ?? null),
    t.budget,
    t.seed,
    t.image,
    t.Pa,
    t.confirm,
  ].join('|');

export const menuSettingKey = (t: { model: string; defense: string; defenseSpec: unknown; images: number; benign: boolean }) =>
  ['setting', t.model, t.defense, canonical(t.defenseSpec), t.images, t.benign].join('|');

/** A record's key, rebuilt from its fields (`attackOptions` as the config gave them, the level included for a noise-aware attack). */
function recordKey(r: DefenseMenuRecord): string {
  if (r.kind === 'setting') return menuSettingKey({ ...r, images: r.correct.length, benign: r.benign !== null });
  return menuAttackKey(r);
}

/** Whether a setting is sent the benign stream. */
export const sendsBenign = (c: Pick<DefenseMenuConfig, 'benign'>, s: DefenseSetting): boolean => c.benign && hasDetector(s.defense);

/** The attack tasks, image by image (a run stopped halfway compares every cell on the same images), settings and attackers in config order. */
export function menuAttackTasks(c: DefenseMenuConfig): MenuAttackTask[] {
  const tasks: MenuAttackTask[] = [];
  for (let image = 0; image < c.images; image++) {
    for (const setting of c.defenses)
      for (const attacker of c.attackers)
        tasks.push({ model: c.model, setting, attacker, image, budget: c.budget, seed: imageSeed(image), Pa: c.Pa, confirm: c.confirm });
  }
  return tasks;
}

export const defenseMenu = defineExperiment({
  name: 'defense-menu',
  config: DefenseMenuConfig,
  record: DefenseMenuRecord,
  file: 'defense-menu.jsonl',
  key: recordKey,
  select: (records, c) => {
    // An attack record belongs when its cell and image are the config's (its options as recorded, resolved).
    const settings = new Map(c.defenses.map((s) => [s.name, canonical(s.defense)]));
    const attackers = new Map(c.attackers.map((a) => [a.name, a]));
    return records.filter((r) => {
      if (settings.get(r.defense) !== canonical(r.defenseSpec) || r.model !== c.model) return false;
      if (r.kind === 'setting') return r.correct.length === c.accuracyImages;
      const a = attackers.get(r.attacker);
      return a !== undefined && a.attack === r.attack && canonical(a.adaptive ?? null) === canonical(r.adaptive) && r.image < c.images && r.budget === c.budget;
    });
  },
});
