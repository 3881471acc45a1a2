// How each model is run, per model id: onnxruntime's intra-op threads, whether idle threads spin,
// its memory arena, the scheduler's preferred batch size, whether the session has its own thread,
// and how many instances (sessions in threads of their own) serve it. The values are measured, not
// guessed: `npm run bench:server -- --write-tuning` searches the raw limit over instances, threads
// and batch sizes on this machine and writes server/config/tuning.json, keyed by the CPU it was
// measured on: the best setting on one CPU is not the best on another (batch 16 ran the Fashion-MNIST
// CNN at 0.71 of the batch-256 rate on an AVX-512 Xeon, the best there was on an EPYC), so a server
// uses the entry for its own CPU model and falls back to the file's default `models` (measured on
// another machine) otherwise, saying which. They are committed rather than measured at each model
// load because a load-time probe takes seconds for an ImageNet model, is at the mercy of whatever
// else runs at that moment, and would slow every server start.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { formatZodError } from '@rs-arena/shared/zod-error';
import type { ModelOptions } from './model.js';
import { defaultBatchSize, type SchedulerOptions } from './scheduler.js';

export const ModelTuning = z.strictObject({
  threads: z.number().int().min(1).max(256).optional(),
  spinning: z.boolean().optional(),
  arena: z.boolean().optional(),
  /** Runs of fewer inputs use a one-thread session (below the batch size where `threads` first beat one thread). */
  singleThreadBelow: z.number().int().min(1).max(4096).optional(),
  batchSize: z.number().int().min(1).max(4096).optional(),
  /** Most copies in one run, when a backlog is queued (scheduler.ts; default `batchSize`). */
  maxBatchSize: z.number().int().min(1).max(4096).optional(),
  /** The session in its own worker thread (model-thread.ts; default) or in the event loop's thread. */
  thread: z.boolean().optional(),
  /** Sessions serving the model, each in its own thread with `threads` intra-op threads (model-instances.ts; default 1). */
  instances: z.number().int().min(1).max(64).optional(),
});
export type ModelTuning = z.infer<typeof ModelTuning>;

const MachineTuning = z.strictObject({
  /** How the figures were obtained. */
  source: z.string().optional(),
  models: z.record(z.string(), ModelTuning).default({}),
});

export const TuningFile = MachineTuning.extend({
  /** Settings measured on a given CPU, by its model name (`os.cpus()[0].model`): used on that CPU instead of `models`. */
  machines: z.record(z.string(), MachineTuning).optional(),
}).strict();
export type TuningFile = z.infer<typeof TuningFile>;

/** This machine's CPU model name, the key of its measured settings. */
export const cpuModel = (): string => cpus()[0]?.model.trim() || 'unknown';

/**
 * The settings that apply on a CPU: its own measured entry where the file has one, else the file's
 * default `models`; `measuredHere` says which (the server logs it, bench:server reports it).
 */
export function tuningForMachine(
  file: TuningFile,
  cpu: string = cpuModel(),
): { models: TuningFile['models']; source?: string; measuredHere: boolean; cpu: string } {
  const own = file.machines?.[cpu];
  return own ? { models: own.models, source: own.source, measuredHere: true, cpu } : { models: file.models, source: file.source, measuredHere: false, cpu };
}

export const TUNING_FILE = fileURLToPath(new URL('../config/tuning.json', import.meta.url));

/** A tuning file (default: the committed one); an invalid one is an error naming the file and field. */
export function loadTuning(file: string = TUNING_FILE): TuningFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read tuning file ${file}: ${(err as Error).message}`);
  }
  const parsed = TuningFile.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid tuning file ${file}: ${formatZodError(parsed.error, { schema: TuningFile })}`);
  return parsed.data;
}

/**
 * The session and scheduler settings for a model on a CPU: its tuned values (the CPU's own entry,
 * else the default), with the operator's explicit `threads` (config or RS_ARENA_THREADS) first; a
 * model without an entry gets onnxruntime's defaults and a batch size from its input size.
 */
export function tuningFor(
  modelId: string,
  inputSize: number,
  tuning: TuningFile,
  override: ModelOptions = {},
  cpu: string = cpuModel(),
): { model: ModelOptions; scheduler: SchedulerOptions; thread: boolean; instances: number } {
  const t = tuningForMachine(tuning, cpu).models[modelId] ?? {};
  const model: ModelOptions = {
    ...(t.threads ? { threads: t.threads } : {}),
    ...(t.spinning !== undefined ? { spinning: t.spinning } : {}),
    ...(t.arena !== undefined ? { arena: t.arena } : {}),
    ...(t.singleThreadBelow ? { singleThreadBelow: t.singleThreadBelow } : {}),
  };
  for (const [k, v] of Object.entries(override)) if (v !== undefined) (model as Record<string, unknown>)[k] = v;
  const instances = t.instances ?? 1;
  // Instances are threads of their own: `thread: false` applies to a single session only.
  // The scheduler bounds maxBatchSize itself (at least batchSize, at most the noise cap).
  return {
    model,
    scheduler: { batchSize: t.batchSize ?? defaultBatchSize(inputSize), maxBatchSize: t.maxBatchSize, instances, depth: 1 },
    thread: instances > 1 || (t.thread ?? true),
    instances,
  };
}
