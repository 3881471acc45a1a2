// Model instances, as Triton's instance groups: k onnxruntime sessions of one model, each in its own
// worker thread (model-thread.ts) with its own intra-op threads, behind the model's one scheduler.
// Whether two 1-thread instances beat one 2-thread session depends on the CPU and the load (measured
// on one Xeon: equal at 8 clients, half at 1 client), so k is a tuning setting that bench:server
// searches (tuning.ts), not a default. The scheduler keeps two runs per instance in flight; each run
// goes to the instance with the fewest runs outstanding. Batch buffers are shared memory registered
// with every instance, so a batch is never copied to pick its instance.
import type { ResolvedModel } from '@rs-arena/shared/catalog';
import type { ModelOptions } from './model.js';
import { ThreadedModel } from './model-thread.js';
import type { BaseClassifier, NoisyCopies } from './scheduler.js';

export class ModelInstances implements BaseClassifier {
  readonly id: string;
  readonly inputShape: readonly [number, number, number];
  readonly inputSize: number;
  readonly classes: number;
  /** Each instance's thread draws the Gaussian copies of its runs (model-thread.ts). */
  readonly drawsNoise = true;

  private constructor(
    readonly model: ResolvedModel,
    private readonly instances: ThreadedModel[],
  ) {
    this.id = instances[0].id;
    this.inputShape = instances[0].inputShape;
    this.inputSize = instances[0].inputSize;
    this.classes = instances[0].classes;
  }

  /** Starts `count` threads, each loading its own session (with its test forward pass). */
  static async load(model: ResolvedModel, options: ModelOptions, count: number): Promise<ModelInstances> {
    const started = await Promise.allSettled(Array.from({ length: count }, () => ThreadedModel.load(model, options)));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.close() : undefined)));
      throw (failed as PromiseRejectedResult).reason;
    }
    return new ModelInstances(
      model,
      started.map((s) => (s as PromiseFulfilledResult<ThreadedModel>).value),
    );
  }

  get count(): number {
    return this.instances.length;
  }

  allocate(values: number): Float32Array {
    const buffer = new SharedArrayBuffer(values * 4);
    for (const instance of this.instances) instance.register(buffer);
    return new Float32Array(buffer);
  }

  predict(batch: Float32Array, count: number, scratch?: boolean, noisy?: NoisyCopies[]): Promise<Int32Array> {
    return this.least().predict(batch, count, scratch, noisy);
  }

  probabilities(batch: Float32Array, count: number): Promise<Float32Array> {
    return this.least().probabilities(batch, count);
  }

  /** The instance with the fewest runs outstanding (the first of them on a tie). */
  private least(): ThreadedModel {
    let best = this.instances[0];
    for (const instance of this.instances) if (instance.inFlight < best.inFlight) best = instance;
    return best;
  }

  async close(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.close()));
  }
}
