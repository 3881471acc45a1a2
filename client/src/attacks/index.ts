// The attack registry: every attack by name. The CLI (help, --option parsing and validation), the
// experiments' configs, the records' resume keys, the findings and the tests all derive from it.
// Adding an attack = its file (a `defineAttack` with a zod options schema) + one line here.
import type { z } from 'zod';
import type { Attack } from './attack.js';
import { geoda } from './geoda.js';
import { geodaSeq } from './geoda-seq.js';
import { hsja } from './hsja.js';
import { psj } from './psj.js';
import { rays } from './rays.js';
import { raysSeq } from './rays-seq.js';
import { surfree } from './surfree.js';
import { surfreeSeq } from './surfree-seq.js';

export const ATTACKS = {
  hsja,
  surfree,
  rays,
  geoda,
  // Noise-aware (issue 12): decide through the sequential test, return a point at level Pa.
  psj,
  'surfree-seq': surfreeSeq,
  'rays-seq': raysSeq,
  'geoda-seq': geodaSeq,
} as const satisfies Record<string, Attack>;

export type AttackName = keyof typeof ATTACKS;
/** Registry order: the CLI's default attack is the first. */
export const ATTACK_NAMES = Object.keys(ATTACKS) as AttackName[];

export const isAttackName = (name: string): name is AttackName => Object.hasOwn(ATTACKS, name);

/** An attack's options completed with its defaults (throws a ZodError on an invalid or unknown one). */
export function resolveOptions(attack: AttackName, options: Record<string, unknown>): Record<string, unknown> {
  return (ATTACKS[attack].options as z.ZodObject).parse(options) as Record<string, unknown>;
}

/** A noise-aware attack: it decides "adversarial at level Pa" itself, through its sequential test (its options have Pa). */
export const decidesAtLevel = (attack: AttackName): boolean => 'Pa' in ATTACKS[attack].options.shape;
