// The attacks by name, as the CLI and the experiments choose them.
import type { Attack } from './attack.js';
import { hsja } from './hsja.js';
import { rays } from './rays.js';
import { surfree } from './surfree.js';

export const ATTACKS = { hsja, surfree, rays } as const satisfies Record<string, Attack<never>>;
export type AttackName = keyof typeof ATTACKS;
export const ATTACK_NAMES = Object.keys(ATTACKS) as AttackName[];
