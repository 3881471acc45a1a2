// The same-algorithm control of each noise-aware attack: the plain attack it decides with, given
// the options the noise-aware variant changes from the plain attack's defaults (geoda-seq's probes
// 0.3·dist wide and its 2% bisection, rays-seq's 1% one), so that under the paper's shortcut it is
// the same algorithm on the same schedule and only the oracle differs. The options are read from
// the two registered schemas, not written again here (and this file is not imported by any attack:
// the records' code versions are unchanged by it).
// PSJ is the exception: it is HSJA rebuilt for randomized answers (psj.ts), its own options are not
// HSJA's, so its control is HSJA as HSJA is run everywhere else (its defaults).
import type { z } from 'zod';
import { ATTACKS, type AttackName, decidesAtLevel, isAttackName } from './index.js';

export interface Control {
  attack: AttackName;
  /** Only the options that differ from the plain attack's defaults (what a record's attackOptions holds). */
  options: Record<string, unknown>;
}

/** The plain attack behind a noise-aware one, by the registry's naming: "<plain>-seq", and psj for HSJA. */
function plainOf(attack: AttackName): AttackName | undefined {
  if (attack === 'psj') return 'hsja';
  const base = attack.replace(/-seq$/, '');
  return base !== attack && isAttackName(base) ? base : undefined;
}

/**
 * The control of a noise-aware attack run with `options` (a record's attackOptions: those given,
 * the rest its defaults), or undefined for a plain attack or one without a registered plain
 * algorithm. The sequential test's own options (Pa, alpha, …) are not the plain attack's: left out.
 */
export function controlOf(attack: string, options: Record<string, unknown> = {}): Control | undefined {
  if (!isAttackName(attack) || !decidesAtLevel(attack)) return undefined;
  const plain = plainOf(attack);
  if (!plain) return undefined;
  if (attack === 'psj') return { attack: plain, options: {} };
  const plainDefaults = (ATTACKS[plain].options as z.ZodObject).parse({}) as Record<string, unknown>;
  const own = (ATTACKS[attack].options as z.ZodObject).parse(options) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(plainDefaults)) if (k in own && own[k] !== v) out[k] = own[k];
  return { attack: plain, options: out };
}
