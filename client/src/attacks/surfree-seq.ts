// SurFree deciding through the sequential test: its circle, angle and line searches keep a point
// only when the test accepted it at level P_a.
import { z } from 'zod';
import { decidedByTest, sequentialOptionsSchema } from './sequential-attack.js';
import { surfree, surfreeOptionsSchema } from './surfree.js';

export const surfreeSeqOptionsSchema = surfreeOptionsSchema.extend(sequentialOptionsSchema.shape);
export type SurFreeSeqOptions = z.input<typeof surfreeSeqOptionsSchema>;

export const surfreeSeq = decidedByTest('surfree-seq', surfree);
