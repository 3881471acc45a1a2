// An experiment's independent tasks (one attack run on one image in one setting), and where they
// run: here, `ctx.concurrency` at a time (the default, no Redis), or as jobs on a queue that workers
// on any number of machines take (`--queue`, client/src/queue/submit.ts). Either way a task whose
// record is already in the results file is skipped, and each record is appended as it comes in.
// A task is run by a registered task kind (`TaskKind`): the same code here and in a worker, which
// finds it by name in client/src/queue/kinds.ts.
import type { z } from 'zod';
import { Ticker } from '../progress.js';
import type { TaskJournal } from '../queue/journal.js';
import type { ResultsFile } from '../results-file.js';
import type { Deployments } from './assessed-attack.js';
import { type ExperimentContext, pool } from './context.js';

/** What a task runs with: the experiment's context and its deployments' oracles. */
export interface TaskEnv {
  ctx: ExperimentContext;
  deployments: Deployments;
}

/** A kind of task a worker can run, found by `name` (register it in client/src/queue/kinds.ts). */
export interface TaskKind<P = unknown, R = unknown> {
  name: string;
  /** The job's payload (JSON, no secrets: workers hold their own keys), checked before a worker runs it. */
  payload: z.ZodType<P>;
  /** The task's query budget, over every attempt (the journal holds every attempt to it). */
  budget(payload: P): number;
  /** Runs the task; `journal` (a queue worker's) books and replays its queries. */
  run(env: TaskEnv, payload: P, key: string, journal?: TaskJournal): Promise<R>;
  /** The task asks the evaluator API (votes, assessments): a worker without an evaluator key cannot run it. */
  needsEvaluator?: boolean;
  /** Releases what `run` kept open for `env` (connections), when a worker stops. */
  close?(env: TaskEnv): Promise<void>;
}

/** One experiment's tasks, as its runner hands them over. */
export interface TaskBatch<T, P, R> {
  experiment: string;
  kind: TaskKind<P, R>;
  tasks: T[];
  key(task: T): string;
  payload(task: T): P;
  /** The experiment's results file (records are appended to it) and its record schema. */
  file: ResultsFile<z.ZodType<R>>;
  record: z.ZodType<R>;
  env: TaskEnv;
  /** Whether a stored record stands (default: any record does); one that does not is run again and replaced (stale code). */
  done?(record: R): boolean;
  /** The code a task runs with (its attack's code version): on a queue, part of the job id, so new code runs again what old code did. */
  version?(task: T): string;
  /** The progress line of a finished task. */
  describe(record: R): string;
  /** The task's work in some unit (forward passes), for the time left; default: tasks alike. */
  cost?(task: T): number;
  /** What the submitter does with a record before storing it (e.g. saves the files a worker sent back in it); default: nothing. */
  collect?(record: R): Promise<R>;
}

/** The work of all the batch's tasks (its `cost` summed; without one, the task count). */
export const totalWork = <T, P, R>(b: TaskBatch<T, P, R>): number => (b.cost ? b.tasks.reduce((s, t) => s + b.cost!(t), 0) : b.tasks.length);

/** Whether the task under `key` already has a record that stands. */
export function isDone<T, P, R>(b: TaskBatch<T, P, R>, key: string): boolean {
  const r = b.file.get(key);
  return r !== undefined && (b.done?.(r) ?? true);
}

/** Where tasks run. */
export interface TaskRunner {
  run<T, P, R>(batch: TaskBatch<T, P, R>): Promise<void>;
}

/** Here, `ctx.concurrency` at a time. */
const localTasks: TaskRunner = {
  async run(b) {
    const ticker = new Ticker(b.experiment, b.tasks.length, { work: totalWork(b) });
    await pool(b.tasks, b.env.ctx.concurrency, async (t) => {
      const key = b.key(t);
      if (isDone(b, key)) return ticker.tick(`${key} (resumed)`, true, b.cost?.(t) ?? 1);
      const run = await b.kind.run(b.env, b.payload(t), key);
      const record = b.collect ? await b.collect(run) : run;
      b.file.add(record);
      ticker.tick(b.describe(record), false, b.cost?.(t) ?? 1);
    });
  },
};

/** Runs a batch where the context says (a queue with `--queue`, else here). */
export const runTasks = <T, P, R>(batch: TaskBatch<T, P, R>): Promise<void> => (batch.env.ctx.tasks ?? localTasks).run(batch);
