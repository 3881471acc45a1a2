// The attacks by name, as the CLI and the experiments choose them.
import type { Attack } from './attack.js';
import { geoda } from './geoda.js';
import { geodaSeq } from './geoda-seq.js';
import { hsja } from './hsja.js';
import { psj } from './psj.js';
import { rays } from './rays.js';
import { raysSeq } from './rays-seq.js';
import { surfree } from './surfree.js';
import { surfreeSeq } from './surfree-seq.js';

export const ATTACKS = { hsja, surfree, rays } as const satisfies Record<string, Attack<never>>;
export type AttackName = keyof typeof ATTACKS;
export const ATTACK_NAMES = Object.keys(ATTACKS) as AttackName[];

// Issue 12's attacks (GeoDA and the noise-aware ones), each with a zod option schema exported from
// its file. Kept beside ATTACKS until the attack registry can take them: cli/attack.ts still keys
// a defaults table by AttackName, which new names would break.
export const NOISE_ATTACKS = {
  geoda,
  psj,
  'geoda-seq': geodaSeq,
  'surfree-seq': surfreeSeq,
  'rays-seq': raysSeq,
} as const satisfies Record<string, Attack<never>>;
export const ALL_ATTACKS = { ...ATTACKS, ...NOISE_ATTACKS };
