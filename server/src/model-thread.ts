// A model's onnxruntime session in its own worker thread. onnxruntime-node's `session.run` runs
// synchronously on the calling thread (its promise only defers the start), so in-process it holds
// Node's event loop for the whole forward pass: no request is parsed, no noise drawn meanwhile.
// Here the session lives in a worker; the event loop draws the next batch's noise and serves HTTP
// while the worker runs the current one. Batches travel in shared memory (the scheduler's buffers
// come from `allocate`); labels come back as a transferred array. Gaussian copies of an unordered
// job are drawn here, from this thread's own unpredictable noise source: the batch brings x once
// and σ (scheduler.ts, NoisyCopies), not n filled copies.
import { Worker, parentPort, workerData } from 'node:worker_threads';
import type { ResolvedModel } from '@rs-arena/shared/catalog';
import { NoiseSource } from '@rs-arena/shared/noise';
import { OnnxModel, type ModelOptions } from './model.js';
import type { BaseClassifier, NoisyCopies } from './scheduler.js';

/** A batch: in shared buffer `shared` (registered once, see `allocate`), or in a transferred `buffer`. */
interface RunMessage {
  id: number;
  shared?: number;
  buffer?: ArrayBuffer;
  byteOffset: number;
  count: number;
  /** Answer class probabilities instead of labels. */
  probabilities?: boolean;
  /** Copies this thread replaces by x + σN before the run. */
  noisy?: NoisyCopies[];
}
/** A shared buffer, sent once: posting a SharedArrayBuffer with every run costs more than the run at small batches. */
interface BufferMessage {
  register: number;
  buffer: SharedArrayBuffer;
}
type Reply = { id: number; labels: Int32Array } | { id: number; probabilities: Float32Array } | { id: number; error: string };

export class ThreadedModel implements BaseClassifier {
  readonly id: string;
  readonly inputShape: readonly [number, number, number];
  readonly inputSize: number;
  readonly classes: number;
  readonly drawsNoise = true;
  private readonly pending = new Map<number, { resolve(l: Int32Array | Float32Array): void; reject(e: Error): void }>();
  private next = 0;
  private failure: Error | undefined;
  /** Shared buffers the thread knows, by index. */
  private readonly shared = new Map<SharedArrayBuffer, number>();

  private constructor(
    readonly model: ResolvedModel,
    private readonly worker: Worker,
  ) {
    this.id = model.entry.id;
    this.inputShape = model.entry.input.shape;
    this.inputSize = model.inputSize;
    this.classes = model.entry.output.classes;
    worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if ('error' in m) p.reject(new Error(`model ${this.id}: ${m.error}`));
      else p.resolve('labels' in m ? m.labels : m.probabilities);
    });
    const fail = (err: Error) => {
      this.failure = new Error(`model ${this.id}: its inference thread stopped (${err.message})`);
      for (const p of this.pending.values()) p.reject(this.failure);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
  }

  /** Starts the thread, loads the session there (with its test forward pass) and resolves once it is ready. */
  static async load(model: ResolvedModel, options: ModelOptions = {}): Promise<ThreadedModel> {
    if (model.status !== 'ok') throw new Error(model.problem);
    const worker = new Worker(bootstrap(), { eval: true, workerData: { model, options } });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: { ready?: true; error?: string }) => {
        worker.off('error', onError);
        if (m.ready) resolve();
        else reject(new Error(m.error));
      };
      const onError = (err: Error) => reject(err);
      worker.once('message', onMessage);
      worker.once('error', onError);
    }).catch(async (err) => {
      await worker.terminate();
      throw err;
    });
    return new ThreadedModel(model, worker);
  }

  /** Batch buffers in shared memory: the thread reads them where they are. */
  allocate(values: number): Float32Array {
    const buffer = new SharedArrayBuffer(values * 4);
    this.register(buffer);
    return new Float32Array(buffer);
  }

  /** Tells the thread about a shared buffer batches will come in (model instances share theirs: model-instances.ts). */
  register(buffer: SharedArrayBuffer): void {
    if (this.shared.has(buffer)) return;
    const register = this.shared.size;
    this.shared.set(buffer, register);
    this.worker.postMessage({ register, buffer } satisfies BufferMessage);
  }

  /** Runs asked of this thread and not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Top-1 labels (`batch` is never modified: the thread works on its own copy), after the thread
   * draws the `noisy` copies. Input outside `allocate`'s buffers is copied here.
   */
  predict(batch: Float32Array, count: number, _scratch?: boolean, noisy?: NoisyCopies[]): Promise<Int32Array> {
    return this.ask(batch, count, false, noisy) as Promise<Int32Array>;
  }

  /** Class probabilities (softmax), computed in the thread. */
  probabilities(batch: Float32Array, count: number): Promise<Float32Array> {
    return this.ask(batch, count, true) as Promise<Float32Array>;
  }

  private ask(batch: Float32Array, count: number, probabilities: boolean, noisy?: NoisyCopies[]): Promise<Int32Array | Float32Array> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.next++;
    const shared = this.shared.get(batch.buffer as SharedArrayBuffer);
    const copy = shared === undefined ? batch.slice(0, count * this.inputSize) : undefined;
    const message: RunMessage = copy
      ? { id, buffer: copy.buffer as ArrayBuffer, byteOffset: 0, count, probabilities, noisy }
      : { id, shared, byteOffset: batch.byteOffset, count, probabilities, noisy };
    return new Promise<Int32Array | Float32Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(message, copy ? [copy.buffer as ArrayBuffer] : []);
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error(`model ${this.id} is closed`);
    await this.worker.terminate();
  }
}

/**
 * The worker's entry: this module again, with TypeScript enabled in the thread when the server
 * runs from its sources (tsx's hooks are per thread), then `serve()`.
 */
function bootstrap(): string {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return `import(${JSON.stringify(self)}).then((m) => m.serve());`;
  const tsx = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(self)}); }).then((m) => m.serve());`;
}

/**
 * In the worker: load the session, then answer run messages one at a time (each run holds this thread only).
 * @public the worker's entry, imported by name in the thread `bootstrap` starts (knip cannot see that import)
 */
export async function serve(): Promise<void> {
  const port = parentPort!;
  const { model, options } = workerData as { model: ResolvedModel; options: ModelOptions };
  let m: OnnxModel;
  try {
    m = await OnnxModel.load(model, options);
  } catch (err) {
    port.postMessage({ error: (err as Error).message });
    return;
  }
  port.postMessage({ ready: true });
  // onnxruntime-node refuses tensors over shared memory: a batch is copied into this thread's own
  // buffer first (a memory copy, about 1% of a forward pass), reused from run to run.
  let own = new Float32Array(0);
  // Seeded from the OS CSPRNG when first needed: as unpredictable as the deployment's own source.
  let noise: NoiseSource | undefined;
  const draw = (batch: Float32Array, copies: NoisyCopies[]) => {
    noise ??= NoiseSource.fromCrypto();
    const d = m.inputSize;
    for (const { offset, copies: k, sigma } of copies) {
      // x is the slot's content, copied out: the copies are written over it.
      const x = batch.slice(offset * d, (offset + 1) * d);
      noise.fillNormal(batch.subarray(offset * d, (offset + k) * d), x, sigma);
    }
  };
  // One run at a time, in arrival order: the next message may arrive while a run waits to start,
  // and must not overwrite this thread's buffer under it.
  let queue = Promise.resolve();
  const shared: SharedArrayBuffer[] = [];
  port.on('message', (message: RunMessage | BufferMessage) => {
    if ('register' in message) shared[message.register] = message.buffer;
    else queue = queue.then(() => run(message));
  });
  async function run({ id, shared: index, buffer, byteOffset, count, probabilities, noisy }: RunMessage): Promise<void> {
    try {
      let batch: Float32Array;
      if (index === undefined) batch = new Float32Array(buffer!, byteOffset, count * m.inputSize);
      else {
        const values = new Float32Array(shared[index], byteOffset, count * m.inputSize);
        if (own.length < values.length) own = new Float32Array(values.length);
        own.set(values);
        batch = own.subarray(0, values.length);
      }
      if (noisy) draw(batch, noisy);
      if (probabilities) {
        const p = await m.probabilities(batch, count);
        port.postMessage({ id, probabilities: p } satisfies Reply, [p.buffer as ArrayBuffer]);
        return;
      }
      // The batch is this thread's own (a copy or a transferred buffer): normalize in place.
      const labels = await m.predict(batch, count, true);
      port.postMessage({ id, labels } satisfies Reply, [labels.buffer as ArrayBuffer]);
    } catch (err) {
      port.postMessage({ id, error: (err as Error).message } satisfies Reply);
    }
  }
}
