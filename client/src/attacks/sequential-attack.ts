// A plain attack made noise-aware by deciding through the sequential test (oracle-sequential.ts):
// it runs unchanged on a SequentialView of the attacker's oracle, so every point it keeps was
// accepted as adversarial at level P_a (error ≤ α), and every repeat the test asked is a counted,
// budgeted top-1 query of the attacker's own CountingOracle.
import { z } from 'zod';
import type { CountingOracle } from '../oracle.js';
import { sequentialTestSchema, sequentialView } from '../oracle-sequential.js';
import type { Attack, AttackOptions, AttackResult } from './attack.js';

/** The sequential test's options, each optional (defaults: sequentialTestSchema's). */
export const sequentialOptionsSchema = sequentialTestSchema.partial();
export type SequentialAttackOptions = z.input<typeof sequentialOptionsSchema>;
const testKeys = Object.keys(sequentialTestSchema.shape) as (keyof SequentialAttackOptions)[];

/** Splits an attack's options into the test's and the plain attack's. */
export function splitTestOptions<O extends object>(options: O & SequentialAttackOptions): { test: SequentialAttackOptions; rest: O } {
  const test: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) (testKeys.includes(k as keyof SequentialAttackOptions) ? test : rest)[k] = v;
  return { test: test as SequentialAttackOptions, rest: rest as O };
}

/** `plain`, deciding through the sequential test, under `name`; `defaults` are the plain options it uses. */
export function decidedByTest<O extends AttackOptions>(name: string, plain: Attack<O>, defaults: Partial<O> = {}): Attack<O & SequentialAttackOptions> {
  return {
    name,
    async run(oracle: CountingOracle, x0: Float32Array, options = {} as O & SequentialAttackOptions): Promise<AttackResult> {
      const { test, rest } = splitTestOptions<O>(options);
      const r = await plain.run(sequentialView(oracle, test), x0, { ...defaults, ...rest });
      return { ...r, attack: name };
    },
  };
}
