// The machine's cores, shared by every model session of one server. Each model's intra-op threads
// are tuned for that model alone (tuning.ts: two on a 2-core machine), but a campaign, or an
// operator serving several models, keeps several models busy at once, and k sessions of two threads
// on two cores stall at every operator's barrier, waiting for a thread the OS descheduled. Measured
// on the paper-protocol campaign (three Fashion-MNIST models busy in one server): 240 µs of server
// CPU per forward pass with two threads per session, 116 µs with one (RS_ARENA_THREADS=1).
// One thread for every session would halve a lone model's speed, so a run takes its session's
// threads only when they fit beside the threads of the runs in flight, and the model's one-thread
// session otherwise. The count lives in shared memory (Atomics): models run in their own worker
// threads (model-thread.ts) and each sees the others' runs.
import { availableParallelism } from 'node:os';

/** What a model thread receives (structured-cloned: the buffer stays shared). */
export interface CoreShareHandle {
  buffer: SharedArrayBuffer;
  cores: number;
}

/** A new share of `cores` cores (default: those this process may use). */
export function newCoreShare(cores: number = availableParallelism()): CoreShareHandle {
  return { buffer: new SharedArrayBuffer(4), cores };
}

export class CoreShare {
  private readonly busy: Int32Array;
  readonly cores: number;

  constructor(handle: CoreShareHandle) {
    this.busy = new Int32Array(handle.buffer);
    this.cores = handle.cores;
  }

  /**
   * The threads a run wanting `threads` may take: all of them when they fit beside those of the
   * runs in flight or when no run is in flight (a lone model runs as tuned, even with more threads
   * than cores), else one (a run always runs; one thread is the least it can take). With `shrink`
   * false (a session without a one-thread alternative) they are all counted, fitting or not. Give
   * them back with `release` when the run ends.
   */
  take(threads: number, shrink = true): number {
    for (;;) {
      const busy = Atomics.load(this.busy, 0);
      const granted = !shrink || busy === 0 || busy + threads <= this.cores ? threads : 1;
      if (Atomics.compareExchange(this.busy, 0, busy, busy + granted) === busy) return granted;
    }
  }

  release(threads: number): void {
    Atomics.sub(this.busy, 0, threads);
  }

  /** Threads taken by the runs in flight. */
  get inUse(): number {
    return Atomics.load(this.busy, 0);
  }
}
