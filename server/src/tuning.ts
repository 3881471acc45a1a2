// How each model is run, per model id: onnxruntime's intra-op threads, whether idle threads spin,
// its memory arena, the scheduler's preferred batch size, and whether the session has its own
// thread. The values are measured, not
// guessed: `npm run bench:server -- --write-tuning` searches the raw limit over batch sizes and
// thread settings on this machine and writes server/config/tuning.json. They are committed rather
// than measured at each model load because a load-time probe takes seconds for an ImageNet model,
// is at the mercy of whatever else runs at that moment, and would slow every server start.
import { readFileSync } from 'node:fs';
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
  /** The session in its own worker thread (model-thread.ts; default) or in the event loop's thread. */
  thread: z.boolean().optional(),
});
export type ModelTuning = z.infer<typeof ModelTuning>;

export const TuningFile = z.strictObject({
  /** How the figures were obtained. */
  source: z.string().optional(),
  models: z.record(z.string(), ModelTuning).default({}),
});
export type TuningFile = z.infer<typeof TuningFile>;

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
 * The session and scheduler settings for a model: its tuned values, with the operator's explicit
 * `threads` (config or RS_ARENA_THREADS) first; a model without an entry gets onnxruntime's
 * defaults and a batch size from its input size.
 */
export function tuningFor(
  modelId: string,
  inputSize: number,
  tuning: TuningFile,
  override: ModelOptions = {},
): { model: ModelOptions; scheduler: SchedulerOptions; thread: boolean } {
  const t = tuning.models[modelId] ?? {};
  const model: ModelOptions = {
    ...(t.threads ? { threads: t.threads } : {}),
    ...(t.spinning !== undefined ? { spinning: t.spinning } : {}),
    ...(t.arena !== undefined ? { arena: t.arena } : {}),
    ...(t.singleThreadBelow ? { singleThreadBelow: t.singleThreadBelow } : {}),
  };
  for (const [k, v] of Object.entries(override)) if (v !== undefined) (model as Record<string, unknown>)[k] = v;
  return { model, scheduler: { batchSize: t.batchSize ?? defaultBatchSize(inputSize), depth: 1 }, thread: t.thread ?? true };
}
