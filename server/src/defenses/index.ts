// The registry of defenses, keyed by name (a deployment spec's `defense`, or a stage of its chain).
// Adding a defense: its file in this folder (an answerDefense or screenDefense) and one entry in
// DEFENSES below.
import type { DefenseDefinition } from '../defense.js';
import { gaussian } from './gaussian.js';
import { none } from './none.js';
import { blacklight } from './blacklight.js';
import { gated } from './gated.js';
import { deterministic } from './deterministic.js';

const DEFENSES: ReadonlyMap<string, DefenseDefinition> = new Map(
  ([none, gaussian, gated, deterministic, blacklight] as DefenseDefinition[]).map((d) => [d.name, d]),
);

export const defenseNames = (): string[] => [...DEFENSES.keys()];

export const defenseDefinition = (name: string): DefenseDefinition | undefined => DEFENSES.get(name);

export const registeredDefenses = (): DefenseDefinition[] => [...DEFENSES.values()];
