// rs-arena experiment: runs a preset's experiments against a server (started here on the default
// config when no --endpoint is given): each experiment of the registry the preset configures, in
// registry order, writing JSONL data into the results folder (the CLI then builds the report).
// Deployments are created through the admin API; a rerun resumes.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ServerAdmin } from '../admin.js';
import { startServer, type ServerProcess } from '../server-process.js';
import { formatSeconds } from '../progress.js';
import type { ExperimentContext } from './context.js';
import type { Preset } from './presets.js';
import { EXPERIMENTS } from './registry.js';

export interface RunOptions {
  dir: string;
  /** An existing server; without one a server process is started on the default config. */
  endpoint?: string;
  keys?: { admin: string; evaluator: string; client: string };
  concurrency: number;
  imagenetImages: string;
  /** Only these experiments (default: all the preset has). */
  only?: string[];
  /** Resume from records made by other attack code (default: rerun and replace them). */
  keepStale?: boolean;
  command: string;
  /** Attack tasks as jobs on this queue (Redis URL) under this campaign name, run by `rs-arena worker`s (queue/submit.ts). */
  queue?: { url: string; campaign: string };
}

/**
 * The runs that made a results folder so far, oldest first: a preset run in parts (`--only`) or
 * resumed keeps each command in preset.json (`runs`), and the report names them all. A folder of
 * another preset, or none, starts afresh; a preset.json from before `runs` counts as its one run.
 */
function earlierRuns(file: string, name: string): { command: string; startedAt: string }[] {
  try {
    const raw = JSON.parse(readFileSync(file, 'utf8'));
    if (raw?.preset?.name !== name) return [];
    if (Array.isArray(raw.runs)) return raw.runs;
    return typeof raw.command === 'string' ? [{ command: raw.command, startedAt: String(raw.startedAt) }] : [];
  } catch {
    return [];
  }
}

/** Writes the folder's preset.json: the preset, this run (`command`, `startedAt`) and every run so far (`runs`). */
export function recordRun(dir: string, preset: Preset, command: string, startedAt = new Date().toISOString()): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'preset.json');
  const run = { command, startedAt };
  writeFileSync(file, JSON.stringify({ preset, ...run, runs: [...earlierRuns(file, preset.name), run] }, null, 2));
}

export async function runPreset(preset: Preset, o: RunOptions): Promise<void> {
  recordRun(o.dir, preset, o.command);
  let server: ServerProcess | null = null;
  let endpoint = o.endpoint;
  let keys = o.keys;
  if (!endpoint) {
    process.stderr.write('starting a server on the default config…\n');
    server = await startServer({ env: { RS_ARENA_IMAGENET_DIR: resolve(o.imagenetImages, '..') } });
    endpoint = server.url;
    keys = server.keys;
  }
  if (!keys) throw new Error('--endpoint needs the admin, evaluator and client keys');
  const ctx: ExperimentContext = {
    endpoint,
    keys,
    admin: new ServerAdmin(endpoint, keys.admin),
    evaluator: new ServerAdmin(endpoint, keys.evaluator),
    dir: o.dir,
    concurrency: o.concurrency,
    imagenetImages: o.imagenetImages,
    keepStale: o.keepStale,
    log: (line) => process.stderr.write(line + '\n'),
    created: new Set(),
  };
  // Loaded only for a queue: BullMQ and Redis's client cost every other run about 0.3 CPU-s to load.
  const queue = o.queue ? new (await import('../queue/submit.js')).QueueTaskRunner({ ...o.queue, log: ctx.log }) : null;
  if (queue) ctx.tasks = queue;
  const t0 = Date.now();
  try {
    // The preset was validated (presets.ts): each config present is its experiment's.
    for (const e of EXPERIMENTS) {
      const config = preset[e.name];
      if (config !== undefined && (!o.only || o.only.includes(e.name))) await e.run(ctx, config);
    }
  } finally {
    // What this run added to the server goes away with it (a failed removal is said, not fatal).
    for (const id of ctx.created ?? []) {
      try {
        await ctx.admin.removeDeployment(id);
      } catch (err) {
        process.stderr.write(`could not remove deployment ${id}: ${(err as Error).message}\n`);
      }
    }
    await ctx.admin.close();
    await ctx.evaluator.close();
    await queue?.close();
    await server?.stop();
  }
  process.stderr.write(`experiments done in ${formatSeconds((Date.now() - t0) / 1000)}; building the report…\n`);
}
