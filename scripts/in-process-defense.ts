// The server's defense chains run in-process, for the defense benchmarks (bench:defenses,
// bench:blinding, bench:adaptive): a chain built from a spec's `defense` exactly as a deployment
// builds it (defense-chain.ts), with memory state and its own scheduler; an oracle that shows every
// query to a detector and answers it anyway (to see where detection would have stopped an attack);
// and the images an attack starts from.
import { DeploymentSpec } from '@rs-arena/shared/api';
import type { loadSample } from '@rs-arena/shared/catalog';
import { createChain, resolveChain } from '../server/src/defense-chain.js';
import { type Defense, type DefenseContext, QueryRefused } from '../server/src/defense.js';
import type { OnnxModel } from '../server/src/model.js';
import { Scheduler } from '../server/src/scheduler.js';
import { MemoryDefenseState } from '../server/src/state/defense-state.js';
import type { Oracle } from '../client/src/oracle.js';

/** The chain a deployment of `model` with this `defense` would run, in memory (a fresh state each call). */
export function defenseOf(model: OnnxModel, defense: unknown, options: { batchSize?: number; modelById?: DefenseContext['modelById'] } = {}): Promise<Defense> {
  return createChain(resolveChain(DeploymentSpec.parse({ id: 'bench', model: model.id, defense })), {
    deployment: 'bench',
    model,
    range: model.model.entry.input.range,
    scheduler: new Scheduler(model, { batchSize: options.batchSize ?? 64 }),
    state: new MemoryDefenseState(),
    detected: () => {},
    ...(options.modelById ? { modelById: options.modelById } : {}),
  });
}

/** The model behind a detector: every query is fingerprinted (and flagged or not), then answered anyway. */
export class Watched implements Oracle {
  readonly inputShape;
  readonly range;
  queries = 0;
  firstFlagged: number | null = null;
  flagged = 0;
  constructor(
    private readonly model: OnnxModel,
    private readonly detector: Defense,
  ) {
    this.inputShape = model.inputShape;
    this.range = model.model.entry.input.range;
  }
  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    const size = this.model.inputSize;
    for (let i = 0; i < count; i++) {
      this.queries++;
      try {
        await this.detector.predict.run(batch.subarray(i * size, (i + 1) * size), 1, undefined, { key: 'attacker' });
      } catch (err) {
        if (!(err instanceof QueryRefused)) throw err;
        this.flagged++;
        this.firstFlagged ??= this.queries;
      }
    }
    return this.model.predict(batch, count);
  }
}

/** Indices of the first `count` sample images the model classifies correctly (what an attack starts from). */
export async function correctlyClassified(model: OnnxModel, sample: ReturnType<typeof loadSample>, count: number): Promise<number[]> {
  const size = model.inputSize;
  const images: number[] = [];
  for (let i = 0; images.length < count && i < sample.labels.length; i++) {
    if ((await model.predict(sample.images.slice(i * size, (i + 1) * size), 1))[0] === sample.labels[i]) images.push(i);
  }
  return images;
}
