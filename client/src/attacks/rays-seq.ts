// RayS deciding through the sequential test: a ray is kept only when the test accepts its point at
// the current best radius, and the radius bisection trusts only accepted points. The bisection
// stops at 0.01 (not 1e-3): each step near the boundary costs the test many repeats, and a
// hundredth of the radius is below the RS noise band the decision is blurred over anyway.
import { z } from 'zod';
import { rays, type RaysOptions } from './rays.js';
import { decidedByTest, sequentialOptionsSchema } from './sequential-attack.js';

export const raysSeqOptionsSchema = z
  .object({
    seed: z.number().int().min(0).optional(),
    tolerance: z.number().positive().optional(),
    linSearchRadius: z.number().int().min(1).optional(),
    epsilon: z.number().positive().optional(),
  })
  .extend(sequentialOptionsSchema.shape);
export type RaysSeqOptions = z.input<typeof raysSeqOptionsSchema>;

export const raysSeq = decidedByTest<RaysOptions>('rays-seq', rays, { tolerance: 0.01 });
