// What an experiment reads and writes, apart from how it runs: its name (the preset key and the
// --only name), its config schema, its record schema, its results file and the resume key of a
// record. The runner (experiments/registry.ts) adds `run`; the report (report/sections/) reads the
// records through the same spec. Nothing under records/ imports runner code.
import type { z } from 'zod';
import type { RecordSpec } from '../../results-file.js';

export interface ExperimentSpec<C extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  name: string;
  config: C;
  record: R;
  /** Results file in the results folder. */
  file: string;
  /** Everything that changes a record's result, as one string. */
  key: (record: z.output<R>) => string;
  /** Fills fields that records written by an older version lack, from the config they were run with. */
  upgrade?: (config: z.output<C>) => (raw: Record<string, unknown>) => Record<string, unknown>;
  /** The records that belong to a config (a file may hold others, from an earlier, larger config). */
  select?: (records: z.output<R>[], config: z.output<C>) => z.output<R>[];
}

export const defineExperiment = <C extends z.ZodType, R extends z.ZodType>(spec: ExperimentSpec<C, R>) => spec;

/** The results-file view of an experiment's records under a config. */
export function recordSpec<C extends z.ZodType, R extends z.ZodType>(spec: ExperimentSpec<C, R>, config: z.output<C>): RecordSpec<R> {
  return { schema: spec.record, key: spec.key, upgrade: spec.upgrade?.(config) };
}
