// The registry of defenses, keyed by the deployment spec's `defense` field. Adding a defense:
// its file in this folder (a DefenseDefinition) and one entry in DEFENSES below.
import type { DeploymentSpec } from '@rs-arena/shared/api';
import type { Defense, DefenseDefinition } from '../defense.js';
import { DefenseSpecError } from '../defense.js';
import type { BaseClassifier } from '../smoothing.js';
import { gaussian } from './gaussian.js';
import { none } from './none.js';

const DEFENSES: ReadonlyMap<string, DefenseDefinition> = new Map([none, gaussian].map((d) => [d.name, d]));

export const defenseNames = (): string[] => [...DEFENSES.keys()];

/** The spec's defense; specs written before the field existed: σ > 0 is Gaussian RS, σ = 0 none. */
export function defenseNameOf(spec: DeploymentSpec): string {
  return spec.defense ?? (spec.sigma > 0 ? 'gaussian' : 'none');
}

/** Builds the deployment's defense, or throws DefenseSpecError naming what is wrong. */
export function createDefense(spec: DeploymentSpec, model: BaseClassifier): Defense {
  const name = defenseNameOf(spec);
  const definition = DEFENSES.get(name);
  if (!definition) throw new DefenseSpecError(`unknown defense "${name}" (known: ${defenseNames().join(', ')})`);
  return definition.create(spec, model);
}
