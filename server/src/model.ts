// One onnxruntime session per model: runs a batch of inputs (pixel space) and returns logits or
// top-1 labels. Normalization from the manifest (ImageNet models) happens here, after any noise.
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { ResolvedModel } from '@rs-arena/shared/catalog';
import { CoreShare, type CoreShareHandle } from './core-share.js';

export interface ModelOptions {
  /** Largest batch sent to onnxruntime in one run; larger requests are split. */
  maxBatch?: number;
  /** onnxruntime intra-op threads (default: onnxruntime's choice, one per core). */
  threads?: number;
  /**
   * Whether idle intra-op threads spin (onnxruntime's default) or sleep. The calling thread is
   * Node's event loop and runs one share of each operator itself, so a spinning pool thread takes
   * the core that HTTP, noise and the next batch need between runs (measured: 2 spinning threads
   * made n = 1 six times slower).
   */
  spinning?: boolean;
  /** onnxruntime's CPU memory arena (default on): off returns activation memory between runs. */
  arena?: boolean;
  /**
   * With `threads` > 1: runs of fewer inputs go to a second session with one intra-op thread.
   * Splitting a small batch's operators across threads costs more (waking the other thread for
   * each operator) than it saves; the benchmark finds the batch size where more threads start to
   * pay (tuning.ts).
   */
  singleThreadBelow?: number;
  /**
   * The server's cores, shared with its other models (core-share.ts): with `threads` > 1, a run
   * whose threads do not fit beside the runs in flight takes the one-thread session.
   */
  cores?: CoreShareHandle;
}

export class OnnxModel {
  readonly id: string;
  readonly inputShape: readonly [number, number, number];
  readonly inputSize: number;
  readonly classes: number;
  readonly maxBatch: number;
  private readonly mean?: Float32Array;
  private readonly invStd?: Float32Array;
  /** Runs made, and how many of them on the one-thread session (small batches, or cores taken by other models). */
  readonly runs = { all: 0, oneThread: 0 };

  private constructor(
    readonly model: ResolvedModel,
    private readonly session: ort.InferenceSession,
    maxBatch: number,
    /** The one-thread session for runs below `below` inputs (ModelOptions.singleThreadBelow) or when the cores are taken. */
    private readonly small?: { session: ort.InferenceSession; below: number },
    /** The main session's threads, taken from `share` for each of its runs. */
    private readonly threads = 1,
    private readonly share?: CoreShare,
  ) {
    const { entry } = model;
    this.id = entry.id;
    this.inputShape = entry.input.shape;
    this.inputSize = model.inputSize;
    this.classes = entry.output.classes;
    this.maxBatch = maxBatch;
    const norm = entry.input.normalization;
    if (norm) {
      this.mean = Float32Array.from(norm.mean);
      this.invStd = Float32Array.from(norm.std, (s) => 1 / s);
    }
  }

  static async load(model: ResolvedModel, options: ModelOptions = {}): Promise<OnnxModel> {
    if (model.status !== 'ok') throw new Error(model.problem);
    const session = await ort.InferenceSession.create(model.path, sessionOptions(options));
    const { input, output } = model.entry;
    if (!session.inputNames.includes(input.name)) {
      throw new Error(`model ${model.entry.id}: ONNX inputs are [${session.inputNames}], manifest says "${input.name}"`);
    }
    if (!session.outputNames.includes(output.name)) {
      throw new Error(`model ${model.entry.id}: ONNX outputs are [${session.outputNames}], manifest says "${output.name}"`);
    }
    const below = options.singleThreadBelow ?? 0;
    // onnxruntime's own default is a thread per core.
    const threads = options.threads ?? availableParallelism();
    const small =
      threads > 1 && (below > 1 || options.cores)
        ? { session: await ort.InferenceSession.create(model.path, sessionOptions({ ...options, threads: 1 })), below }
        : undefined;
    // Every session counts its runs' threads, a one-thread one too: another model's run must see them.
    const share = options.cores ? new CoreShare(options.cores) : undefined;
    const m = new OnnxModel(model, session, options.maxBatch ?? 256, small, threads, share);
    // Fail at start-up, not on the first query: one forward pass on a blank input.
    const probe = await m.logits(new Float32Array(m.inputSize), 1);
    if (probe.length !== m.classes || !probe.every(Number.isFinite)) {
      throw new Error(`model ${m.id}: a test forward pass gave ${probe.length} outputs (expected ${m.classes} finite logits)`);
    }
    return m;
  }

  /**
   * Logits for `count` inputs laid out back to back in `batch`. When `scratch` is true the caller
   * gives up `batch` and normalization is done in place (saves a copy on the RS hot path).
   */
  async logits(batch: Float32Array, count: number, scratch = false): Promise<Float32Array> {
    const out = new Float32Array(count * this.classes);
    for (let start = 0; start < count; start += this.maxBatch) {
      const size = Math.min(this.maxBatch, count - start);
      let chunk = batch.subarray(start * this.inputSize, (start + size) * this.inputSize);
      if (this.mean) chunk = this.normalize(chunk, scratch);
      const feeds = { [this.model.entry.input.name]: new ort.Tensor('float32', chunk, [size, ...this.inputShape]) };
      // The threads this run takes: one for a small batch; else the main session's, or one when
      // the share has no room for them and the one-thread session can run it instead.
      const wanted = this.small && size < this.small.below ? 1 : this.threads;
      const taken = this.share ? this.share.take(wanted, this.small !== undefined) : wanted;
      try {
        // The one-thread session exists only beside a main session of more threads.
        const session = this.small && taken === 1 ? this.small.session : this.session;
        this.runs.all++;
        if (session !== this.session) this.runs.oneThread++;
        const result = await session.run(feeds);
        out.set(result[this.model.entry.output.name].data as Float32Array, start * this.classes);
      } finally {
        this.share?.release(taken);
      }
    }
    return out;
  }

  /** Top-1 labels; ties break to the lowest class index. */
  async predict(batch: Float32Array, count: number, scratch = false): Promise<Int32Array> {
    return argmaxRows(await this.logits(batch, count, scratch), this.classes);
  }

  /** Class probabilities (softmax of the logits); `batch` is not modified. */
  async probabilities(batch: Float32Array, count: number): Promise<Float32Array> {
    return softmaxRows(await this.logits(batch, count, false), this.classes);
  }

  private normalize(chunk: Float32Array, inPlace: boolean): Float32Array {
    const out = inPlace ? chunk : new Float32Array(chunk.length);
    const [c, h, w] = this.inputShape;
    const plane = h * w;
    for (let base = 0; base < chunk.length; base += c * plane) {
      for (let ch = 0; ch < c; ch++) {
        const m = this.mean![ch];
        const s = this.invStd![ch];
        const off = base + ch * plane;
        for (let j = off; j < off + plane; j++) out[j] = (chunk[j] - m) * s;
      }
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
    await this.small?.session.release();
  }
}

/**
 * onnxruntime session settings: all graph optimizations; sequential execution (these models are
 * one chain of operators, so an inter-op pool would only add threads); intra-op threads and
 * spinning as tuned per model (server/src/tuning.ts).
 */
function sessionOptions(options: ModelOptions): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: 1,
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    ...(options.arena === false ? { enableCpuMemArena: false } : {}),
    ...(options.spinning === undefined ? {} : { extra: { session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' } } } }),
  };
}

/** Row-wise argmax; the first (lowest-index) maximum wins ties. */
function argmaxRows(values: Float32Array, width: number): Int32Array {
  const rows = values.length / width;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestValue = values[r * width];
    for (let c = 1; c < width; c++) {
      const v = values[r * width + c];
      if (v > bestValue) {
        bestValue = v;
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}

/** Row-wise softmax, in place (stable: the row's maximum is subtracted first). */
export function softmaxRows(values: Float32Array, width: number): Float32Array {
  for (let r = 0; r < values.length; r += width) {
    let max = -Infinity;
    for (let c = r; c < r + width; c++) if (values[c] > max) max = values[c];
    let sum = 0;
    for (let c = r; c < r + width; c++) sum += values[c] = Math.exp(values[c] - max);
    for (let c = r; c < r + width; c++) values[c] /= sum;
  }
  return values;
}
