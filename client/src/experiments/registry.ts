// The experiment registry: each experiment's spec (name, config and record schemas, results file,
// resume key; records/<name>.ts) with its runner. `rs-arena experiment` runs them in this order;
// presets, --only and --config are checked against it. Adding an experiment = records/<name>.ts,
// <name>.ts (its run) and one line here; the report adds one line in report/sections/index.ts.
import type { z } from 'zod';
import { runAccuracy } from './accuracy.js';
import { runBinarySearch } from './binary-search.js';
import { runCertification } from './certification.js';
import { CheckedConfidenceCostConfig, runConfidenceCost } from './confidence-cost.js';
import type { ExperimentContext } from './context.js';
import { runDirection } from './direction.js';
import { CheckedDefenseMenuConfig, runDefenseMenu } from './defense-menu.js';
import { CheckedDistortionConfig, runDistortion } from './distortion.js';
import { accuracy } from './records/accuracy.js';
import { binarySearch } from './records/binary-search.js';
import { certification } from './records/certification.js';
import { confidenceCost } from './records/confidence-cost.js';
import { defenseMenu } from './records/defense-menu.js';
import { direction } from './records/direction.js';
import { distortion } from './records/distortion.js';
import type { ExperimentSpec } from './records/experiment.js';
import { slice } from './records/slice.js';
import { runSlice } from './slice.js';

export interface Experiment<C extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> extends ExperimentSpec<C, R> {
  run(ctx: ExperimentContext, config: z.output<C>): Promise<z.output<R>[]>;
}

const experiment = <C extends z.ZodType, R extends z.ZodType>(spec: ExperimentSpec<C, R>, run: Experiment<C, R>['run'], config: C = spec.config) =>
  ({ ...spec, config, run }) as Experiment;

export const EXPERIMENTS: Experiment[] = [
  // First: the σ search by accuracy cost, and the accuracy of the attacked settings.
  experiment(accuracy, runAccuracy),
  experiment(certification, runCertification),
  experiment(direction, runDirection),
  experiment(slice, runSlice),
  experiment(binarySearch, runBinarySearch),
  experiment(distortion, runDistortion, CheckedDistortionConfig),
  experiment(confidenceCost, runConfidenceCost, CheckedConfidenceCostConfig),
  experiment(defenseMenu, runDefenseMenu, CheckedDefenseMenuConfig),
];

export const EXPERIMENT_NAMES = EXPERIMENTS.map((e) => e.name);
