// GeoDA deciding through the sequential test: its boundary searches keep only points the test
// accepted at level P_a, while its probes are single raw answers (see geoda.ts) 0.3·dist wide, so
// that they reach across the band where a randomized boundary is blurred; the bisection stops at
// 2% of the radius, since every step near the boundary costs the test many repeats.
import { z } from 'zod';
import { geoda, geodaOptionsSchema, type GeodaOptions } from './geoda.js';
import { decidedByTest, sequentialOptionsSchema } from './sequential-attack.js';

export const geodaSeqOptionsSchema = geodaOptionsSchema.extend(sequentialOptionsSchema.shape);
export type GeodaSeqOptions = z.input<typeof geodaSeqOptionsSchema>;

export const geodaSeq = decidedByTest<GeodaOptions>('geoda-seq', geoda, { probeFactor: 0.3, tolerance: 0.02 });
