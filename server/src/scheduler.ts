// One queue per base model for all its noisy-copy work (every deployment on the model, predict,
// votes and CERTIFY alike): onnxruntime batches are formed across requests (dynamic batching as in
// Triton: whatever is queued when the model frees up, up to a preferred batch size measured per
// model), and the copies of a batch are handed out round-robin across API keys, so a flood of large
// requests from one key cannot starve another key's single query. Cancelled work leaves the queue.
//
// The scheduler knows nothing of noise: each job brings its own `fill`, the defense's perturbation
// (Gaussian RS: x + σN from the deployment's stream), which the scheduler calls at copy granularity
// into a few reused batch buffers (no per-chunk allocation). Jobs on one ordered stream (a seeded
// noise source) are drawn strictly in arrival order (later ones wait for the earlier ones to be
// drawn), so a seeded deployment answers exactly as before whatever else shares the batches; an
// unordered job is drawn in any interleaving, which is what lets a small query overtake a flood on
// the same deployment. One exception: an unordered job of plain Gaussian noise (`gaussian`) on a
// model in its own threads is handed over as x and σ, and the model's thread draws the copies
// (CERTIFY's 100,000 copies then cost the event loop one write of x per run, not 78 million normals).
import { MAX_SCRATCH_VALUES } from '@rs-arena/shared/noise';

/**
 * Copies a model draws itself: `copies` copies from slot `offset` of the batch are x + σN, where x
 * is what the batch holds at slot `offset` (the scheduler writes x once, not the n noisy copies).
 */
export interface NoisyCopies {
  offset: number;
  copies: number;
  sigma: number;
}

/** What smoothing (and this scheduler) needs of a base model f: its input size, class count and batched top-1 labels. */
export interface BaseClassifier {
  readonly inputSize: number;
  readonly classes: number;
  /**
   * Labels of `count` inputs; with `scratch` the callee may overwrite `batch`. With `noisy`, the
   * model first replaces those copies by x + σN from its own unpredictable noise source.
   */
  predict(batch: Float32Array, count: number, scratch?: boolean, noisy?: NoisyCopies[]): Promise<Int32Array>;
  /**
   * True when `predict` takes `noisy`: the model draws Gaussian noise where it runs (a model in
   * its own threads: model-thread.ts), so the event loop neither draws it nor hands it over.
   */
  readonly drawsNoise?: boolean;
  /**
   * True when `predict` has copied `batch` by the time it returns its promise (a remote model
   * serializes it at once): the scheduler may then draw the next noisy copies into the same buffer
   * while the answers are awaited.
   */
  readonly copiesInput?: boolean;
  /** Optional: where batch buffers should live (a model in another thread reads shared memory without a copy). */
  allocate?(values: number): Float32Array;
}

/** Most values one noise fill writes: bounds the noise generator's own work area (a few MB per deployment). */
const FILL_VALUES = 1 << 19;

export interface SchedulerOptions {
  /** Noisy copies per model run when enough work is queued (the model's preferred batch size). */
  batchSize?: number;
  /**
   * Most copies in one run (default: `batchSize`). A run grows past the preferred size when more is
   * queued than the runs that could start now would hold at it: a lone n = 100 query becomes one run
   * per instance (two runs of 50, not seven of 16 on two instances), a CERTIFY runs in fewer, larger
   * batches (fewer hand-offs), and small queries still make runs of the preferred size.
   */
  maxBatchSize?: number;
  /** Runs the model executes at once (its instances, model-instances.ts; default 1): a backlog is spread over them. */
  instances?: number;
  /**
   * Model runs in flight at once, each with its own batch buffer: 1 for an in-process session (its
   * run holds the event loop), 2 for a session in its own thread (the next batch is drawn while
   * the current one runs), the connection count for a remote model.
   */
  depth?: number;
}

/** Thrown to a job's caller once its signal aborts; says how many forward passes it had been given. */
export class JobCancelled extends Error {
  override name = 'JobCancelled';
  constructor(readonly forwardPasses: number) {
    super(`cancelled after ${forwardPasses} forward passes`);
  }
}

/** Noisy-copy work for `count` inputs laid back to back in `xs`. */
export interface JobSpec {
  xs: Float32Array;
  count: number;
  /**
   * Writes the next copies of input `input` (whose values are `x`) into `out`, a whole number of
   * copies laid back to back: the defense's perturbation (e.g. x + σN). Called in the job's copy
   * order, input by input; a copy's values must not depend on how copies are split into calls.
   */
  fill(out: Float32Array, x: Float32Array, input: number): void;
  /**
   * The job's perturbation is plain x + σN from an unpredictable source (no seed, no order): a
   * model that draws noise itself (`drawsNoise`) is then handed x and this σ instead of the
   * filled copies. Any other model gets `fill`'s copies.
   */
  gaussian?: number;
  /** The stream an ordered job draws from (e.g. its noise source): ordered jobs on one stream draw in arrival order. */
  stream?: object;
  /** The fairness lane: the caller's API key id (one lane for callers without a key). */
  key?: string;
  /** Draw this job's copies only after every earlier ordered job on the same stream (a seeded noise source). */
  ordered?: boolean;
  /** Most of this job's copies in one model run (the deployment's batchSize). */
  maxPerRun?: number;
  /** The job may ask for more copies after a wave (early-stopping votes): an ordered one keeps its stream until complete. */
  multiWave?: boolean;
  /**
   * For a generator whose draws depend on how fills are split (the JS ziggurat finishes its
   * rejected draws at the end of each fill), the fills a request made before batching across
   * requests: copies are filled in cells that never cross an input or a multiple of `fillGrid` in
   * the job's copy order, and a cell is split only when it exceeds a whole batch. (The server's
   * WASM generator draws whole copies, so any split gives the same noise and it needs none.)
   */
  fillGrid?: number;
  /**
   * Copies to draw per input next, given the counts [count × classes] and answered copies per
   * input so far; null when the job is complete. Called first at submission, then each time all
   * the copies asked for have been answered.
   */
  wave(counts: Uint32Array, answered: Uint32Array): Uint32Array | null;
  signal?: AbortSignal;
}

export interface JobResult {
  counts: Uint32Array;
  /** Copies answered per input. */
  answered: Uint32Array;
}

interface Job {
  spec: JobSpec;
  counts: Uint32Array;
  answered: Uint32Array;
  /** The current wave: copies still to draw per input, and the first input that has any. */
  todo: Uint32Array;
  cursor: number;
  /** Copies of the current wave still to draw (the sum of `todo`). */
  remaining: number;
  /** Copies drawn and not answered yet. */
  outstanding: number;
  /** Copies given to the model so far (what a cancellation reports). */
  issued: number;
  done: boolean;
  resolve(r: JobResult): void;
  reject(err: unknown): void;
  onAbort?: () => void;
}

/** One run's share of a job: `copies` copies of input `input`, at `offset` in the batch. */
interface Segment {
  job: Job;
  input: number;
  offset: number;
  copies: number;
  /** The model draws these copies' noise (JobSpec.gaussian): the batch holds x at `offset` only. */
  sigma?: number;
}

/** A model's queue: the deployment registry keeps one per served model (deployments.ts). */
export class Scheduler {
  readonly batchSize: number;
  readonly maxBatchSize: number;
  readonly instances: number;
  readonly depth: number;
  /** Jobs waiting or running, per key, in arrival order; `order` is the round-robin ring of keys. */
  private readonly lanes = new Map<string, Job[]>();
  private order: string[] = [];
  private turn = 0;
  /** Ordered jobs per noise stream not yet fully drawn, in arrival order: only the first may draw. */
  private readonly streams = new Map<object, Job[]>();
  private readonly free: Float32Array[] = [];
  private buffers = 0;
  private running = 0;
  private pumpScheduled = false;
  /** Model runs made and the copies they held (for tests and metrics). */
  runs = 0;
  copies = 0;

  constructor(
    readonly model: BaseClassifier,
    options: SchedulerOptions = {},
  ) {
    // A batch buffer never exceeds the noise cap (an ImageNet input is 150,528 values).
    const cap = Math.max(1, Math.floor(MAX_SCRATCH_VALUES / model.inputSize));
    this.batchSize = Math.max(1, Math.min(options.batchSize ?? defaultBatchSize(model.inputSize), cap));
    this.maxBatchSize = Math.max(this.batchSize, Math.min(options.maxBatchSize ?? this.batchSize, cap));
    this.instances = Math.max(1, options.instances ?? 1);
    this.depth = Math.max(1, options.depth ?? 1);
  }

  /** Queued work: jobs waiting or running. */
  get pending(): number {
    let n = 0;
    for (const jobs of this.lanes.values()) n += jobs.length;
    return n;
  }

  submit(spec: JobSpec): Promise<JobResult> {
    const classes = this.model.classes;
    return new Promise<JobResult>((resolve, reject) => {
      if (spec.signal?.aborted) return reject(new JobCancelled(0));
      const counts = new Uint32Array(spec.count * classes);
      const answered = new Uint32Array(spec.count);
      const todo = spec.wave(counts, answered);
      if (!todo) return resolve({ counts, answered });
      const job: Job = { spec, counts, answered, todo, cursor: 0, remaining: sum(todo), outstanding: 0, issued: 0, done: false, resolve, reject };
      this.skipDrawn(job);
      if (job.remaining === 0) return resolve({ counts, answered });
      const key = spec.key ?? '';
      let lane = this.lanes.get(key);
      if (!lane) {
        this.lanes.set(key, (lane = []));
        this.order.push(key);
      }
      lane.push(job);
      if (spec.ordered) {
        const stream = this.streams.get(streamOf(spec));
        if (stream) stream.push(job);
        else this.streams.set(streamOf(spec), [job]);
      }
      if (spec.signal) {
        job.onAbort = () => this.finish(job, new JobCancelled(job.issued));
        spec.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.schedule();
    });
  }

  /**
   * Forms the next batch on the next turn of the event loop, so that the requests that arrived
   * meanwhile (read in the loop's poll phase) join it: the queue delay of dynamic batching.
   */
  private schedule(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.depth) {
      // While a run is in flight, a further one starts only when a full batch is waiting: smaller
      // work waits for the run to end and joins what arrives meanwhile (few large runs, not many
      // small ones, when many small queries come in).
      const queued = this.queuedCopies(this.maxBatchSize * this.instances);
      if (this.running > 0 && queued < this.batchSize) return;
      const buf = this.free.pop() ?? (this.buffers < this.depth ? this.allocate() : undefined);
      if (!buf) return;
      // The backlog spread over the instances not running yet, within [preferred, max] copies per run.
      const idle = Math.max(1, this.instances - this.running);
      const capacity = Math.min(this.maxBatchSize, Math.max(this.batchSize, Math.ceil(queued / idle)));
      const { size, segments } = this.form(buf, capacity);
      if (size === 0) {
        this.free.push(buf);
        return;
      }
      this.running++;
      this.runs++;
      this.copies += size;
      void this.run(buf, size, segments);
    }
  }

  /** Copies that could be drawn now (each job's at most one run's worth), counted up to `limit`. */
  private queuedCopies(limit: number): number {
    let copies = 0;
    for (const lane of this.lanes.values()) {
      for (const job of lane) {
        if (this.drawable(job)) copies += Math.min(job.remaining, job.spec.maxPerRun ?? Infinity);
        if (copies >= limit) return limit;
      }
    }
    return copies;
  }

  private allocate(): Float32Array {
    this.buffers++;
    const values = this.maxBatchSize * this.model.inputSize;
    return this.model.allocate?.(values) ?? new Float32Array(values);
  }

  private async run(buf: Float32Array, size: number, segments: Segment[]): Promise<void> {
    let labels: Int32Array | undefined;
    let failure: unknown;
    let answer: Promise<Int32Array>;
    try {
      const noisy = segments.filter((s) => s.sigma !== undefined).map(({ offset, copies, sigma }) => ({ offset, copies, sigma: sigma! }));
      answer = this.model.predict(buf.subarray(0, size * this.model.inputSize), size, true, noisy.length > 0 ? noisy : undefined);
    } catch (err) {
      answer = Promise.reject(err);
    }
    // A model that copies its input (remote) frees the buffer at once: the next batch is drawn
    // while this one's answers are on their way.
    if (this.model.copiesInput) {
      this.free.push(buf);
      this.schedule();
    }
    try {
      labels = await answer;
    } catch (err) {
      failure = err;
    }
    if (!this.model.copiesInput) this.free.push(buf);
    this.running--;
    const classes = this.model.classes;
    const touched = new Set<Job>();
    for (const s of segments) {
      const { job } = s;
      if (job.done) continue;
      if (failure !== undefined) {
        this.finish(job, failure);
        continue;
      }
      const row = s.input * classes;
      for (let j = s.offset; j < s.offset + s.copies; j++) job.counts[row + labels![j]] += 1;
      job.answered[s.input] += s.copies;
      job.outstanding -= s.copies;
      touched.add(job);
    }
    for (const job of touched) if (job.outstanding === 0 && job.cursor >= job.todo.length) this.nextWave(job);
    this.schedule();
  }

  /** All copies asked for are answered: the next wave, or the job is complete. */
  private nextWave(job: Job): void {
    let todo: Uint32Array | null;
    try {
      todo = job.spec.wave(job.counts, job.answered);
    } catch (err) {
      this.finish(job, err);
      return;
    }
    if (!todo) {
      this.finish(job);
      return;
    }
    job.todo = todo;
    job.cursor = 0;
    job.remaining = sum(todo);
    this.skipDrawn(job);
    if (job.remaining === 0) this.finish(job); // an empty wave
  }

  private skipDrawn(job: Job): void {
    while (job.cursor < job.todo.length && job.todo[job.cursor] === 0) job.cursor++;
  }

  /** Takes the job out of the queue and settles its promise. */
  private finish(job: Job, error?: unknown): void {
    if (job.done) return;
    job.done = true;
    if (job.onAbort) job.spec.signal!.removeEventListener('abort', job.onAbort);
    const key = job.spec.key ?? '';
    const lane = this.lanes.get(key)!;
    lane.splice(lane.indexOf(job), 1);
    if (lane.length === 0) {
      this.lanes.delete(key);
      const at = this.order.indexOf(key);
      this.order.splice(at, 1);
      if (at < this.turn) this.turn--;
    }
    this.leaveStream(job);
    if (error === undefined) job.resolve({ counts: job.counts, answered: job.answered });
    else job.reject(error);
    this.schedule(); // a stream may have been unblocked
  }

  private leaveStream(job: Job): void {
    if (!job.spec.ordered) return;
    const stream = this.streams.get(streamOf(job.spec));
    const at = stream?.indexOf(job) ?? -1;
    if (at < 0) return;
    stream!.splice(at, 1);
    if (stream!.length === 0) this.streams.delete(streamOf(job.spec));
  }

  /** A job may draw now: it has copies to draw in its current wave, and its stream (if ordered) is its. */
  private drawable(job: Job): boolean {
    if (job.done || job.cursor >= job.todo.length) return false;
    return !job.spec.ordered || this.streams.get(streamOf(job.spec))?.[0] === job;
  }

  /**
   * Fills `buf` round-robin across keys: in each round, every key with drawable work gets an equal
   * share of the room left, from its earliest drawable job; rounds repeat while room and work
   * remain. The ring position carries over, so the next batch starts with the next key.
   */
  private form(buf: Float32Array, capacity: number): { size: number; segments: Segment[] } {
    const segments: Segment[] = [];
    const taken = new Map<Job, number>();
    const full = new Set<Job>(); // jobs whose next fill cell does not fit this batch
    const pick = (key: string) => this.lanes.get(key)!.find((j) => this.drawable(j) && !full.has(j) && (taken.get(j) ?? 0) < (j.spec.maxPerRun ?? Infinity));
    let size = 0;
    while (size < capacity) {
      const active = this.order.filter((k) => pick(k) !== undefined).length;
      if (active === 0) break;
      const share = Math.ceil((capacity - size) / active);
      for (let t = 0, ring = this.order.length; t < ring && size < capacity; t++) {
        if (this.turn >= this.order.length) this.turn = 0;
        const job = pick(this.order[this.turn++]);
        if (!job) continue;
        const room = Math.min(share, capacity - size, (job.spec.maxPerRun ?? Infinity) - (taken.get(job) ?? 0));
        const drawn = this.draw(job, buf, size, room, segments);
        if (drawn < room && this.drawable(job)) full.add(job);
        taken.set(job, (taken.get(job) ?? 0) + drawn);
        size += drawn;
      }
    }
    return { size, segments };
  }

  /** Draws up to `room` of the job's next copies into `buf` from copy slot `at`; returns how many. */
  private draw(job: Job, buf: Float32Array, at: number, room: number, segments: Segment[]): number {
    const { xs, fill } = job.spec;
    const d = this.model.inputSize;
    let drawn = 0;
    const grid = job.spec.fillGrid;
    while (drawn < room && job.cursor < job.todo.length) {
      const input = job.cursor;
      let copies = Math.min(room - drawn, job.todo[input]);
      if (grid) {
        const cell = Math.min(grid - ((job.issued + drawn) % grid), job.todo[input]);
        // Against the preferred size, not this run's capacity (which follows the load): where a
        // cell larger than a batch is split must not depend on what else was queued.
        const space = this.batchSize - at - drawn;
        if (cell <= space)
          copies = cell; // whole, even a little beyond this key's share
        else if (at + drawn > 0)
          break; // in the next batch
        else copies = space; // larger than a batch: split, unavoidably
      }
      const x = xs.subarray(input * d, (input + 1) * d);
      const offset = at + drawn;
      const sigma = this.model.drawsNoise ? job.spec.gaussian : undefined;
      if (sigma !== undefined)
        buf.set(x, offset * d); // the model draws the copies from x
      else {
        // In pieces of whole copies: a copy's noise does not depend on how the copies are split.
        const piece = grid ? copies : Math.max(1, Math.floor(FILL_VALUES / d));
        for (let c = 0; c < copies; c += piece) {
          const k = Math.min(piece, copies - c);
          fill(buf.subarray((offset + c) * d, (offset + c + k) * d), x, input);
        }
      }
      segments.push({ job, input, offset, copies, ...(sigma !== undefined ? { sigma } : {}) });
      job.todo[input] -= copies;
      job.remaining -= copies;
      drawn += copies;
      this.skipDrawn(job);
    }
    job.outstanding += drawn;
    job.issued += drawn;
    // Fully drawn: the next ordered job on its stream may draw (a later wave waits its turn again).
    if (job.cursor >= job.todo.length && !job.spec.multiWave) this.leaveStream(job);
    return drawn;
  }
}

/** An ordered job's stream: its own, or its fill function's. */
const streamOf = (spec: JobSpec): object => spec.stream ?? spec.fill;

const sum = (a: Uint32Array) => a.reduce((x, y) => x + y, 0);

/** Without a measured setting: the power of two nearest 2^21 input values per run, in [8, 128] (Fashion-MNIST 128, ImageNet 16). */
export function defaultBatchSize(inputSize: number): number {
  return Math.max(8, Math.min(128, 2 ** Math.round(Math.log2((1 << 21) / inputSize))));
}
