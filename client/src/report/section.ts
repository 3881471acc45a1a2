// A report section: what the report shows of one experiment's records (figures, CSV, a table).
// Sections import only the experiments' data specs (experiments/records/), never a runner.
import type { z } from 'zod';
import type { ExperimentSpec } from '../experiments/records/experiment.js';
import type { Figure } from './figures.js';

export interface ReportContext {
  /** The results folder: records are read from it, figures and CSV written to it. */
  dir: string;
  /** The config the preset gave an experiment (validated by its schema), if any. */
  config<C extends z.ZodType, R extends z.ZodType>(spec: ExperimentSpec<C, R>): z.output<C> | undefined;
  /** An experiment's records (validated); those of the preset's config when the spec selects. */
  records<C extends z.ZodType, R extends z.ZodType>(spec: ExperimentSpec<C, R>): z.output<R>[];
}

export interface Section {
  /** The experiment whose records the section shows: the section appears when the preset configures it and there are records. */
  experiment: ExperimentSpec;
  title: string;
  build(ctx: ReportContext): Promise<{ figures: Figure[]; html: string }>;
}

export const defineSection = <C extends z.ZodType, R extends z.ZodType>(s: {
  experiment: ExperimentSpec<C, R>;
  title: string;
  build(ctx: ReportContext, config: z.output<C>, records: z.output<R>[]): Promise<{ figures: Figure[]; html: string }>;
}): Section => ({
  experiment: s.experiment as unknown as ExperimentSpec,
  title: s.title,
  build: (ctx) => s.build(ctx, ctx.config(s.experiment)!, ctx.records(s.experiment)),
});
