// Progress on stderr: a live bar on a terminal (images done, queries spent, the current best L2 of
// the images in flight, time left), plain lines otherwise (CI logs, files).
import type { CampaignEvent } from './campaign.js';

export class Progress {
  private done = 0;
  private skipped = 0;
  private successes = 0;
  private readonly inFlight = new Map<string, { queries: number; l2: number }>();
  private readonly started = Date.now();
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly budget: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  readonly onEvent = (e: CampaignEvent): void => {
    if (e.type === 'skip') {
      this.done++;
      this.skipped++;
    } else if (e.type === 'start') this.inFlight.set(e.image, { queries: 0, l2: Infinity });
    else if (e.type === 'progress') this.inFlight.set(e.image, { queries: e.queries, l2: e.l2 });
    else {
      const r = e.record;
      this.inFlight.delete(r.image);
      this.done++;
      if (r.success) this.successes++;
      if (!this.tty) {
        const what = r.misclassified ? 'already misclassified' : r.success ? `L2 ${r.l2!.toFixed(3)}` : `failed (${r.stopReason})`;
        this.stream.write(`${this.label} [${this.done}/${this.total}] ${r.image}: ${what}, ${r.queries.total} queries, ${(r.wallMs / 1000).toFixed(1)} s\n`);
      }
    }
    this.draw(e.type === 'done' || e.type === 'skip');
  };

  private draw(force: boolean): void {
    if (!this.tty) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 24;
    const frac = this.total ? this.done / this.total : 1;
    const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '░');
    const flight = [...this.inFlight.entries()]
      .slice(0, 3)
      .map(([id, p]) => `${id} ${p.queries}/${this.budget}q L2 ${Number.isFinite(p.l2) ? p.l2.toFixed(3) : '–'}`);
    const fresh = this.done - this.skipped;
    const elapsed = (now - this.started) / 1000;
    const eta = fresh > 0 ? ((this.total - this.done) * elapsed) / fresh : NaN;
    const text = `${this.label} ${bar} ${this.done}/${this.total} ok ${this.successes} | ${flight.join(' | ')} | ${formatSeconds(elapsed)} elapsed${Number.isFinite(eta) ? `, ~${formatSeconds(eta)} left` : ''}`;
    this.stream.write(`\r\x1b[2K${text.slice(0, (this.stream.columns ?? 160) - 1)}`);
  }

  finish(): void {
    if (this.tty) this.stream.write('\n');
  }
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.round((s % 3600) / 60)).padStart(2, '0')}m`;
}

export interface TickerOptions {
  /**
   * The work of all `total` tasks in one unit (e.g. forward passes), for the time left: a sweep
   * whose tasks differ a hundredfold in cost (n = 10 beside n = 100, images beyond the first 30 at
   * n = 10 only) is not estimated from its first tasks' mean. Each `tick` then says its task's work.
   */
  work?: number;
  stream?: Pick<NodeJS.WriteStream, 'write' | 'isTTY' | 'columns'>;
  /** Milliseconds (tests). */
  clock?: () => number;
}

/** Progress of a sweep of `total` tasks: a bar with the time left, one line per task off a terminal. */
export class Ticker {
  private done = 0;
  private doneWork = 0;
  private freshWork = 0;
  private readonly started: number;
  private readonly tty: boolean;
  private readonly stream: NonNullable<TickerOptions['stream']>;
  private readonly clock: () => number;
  private readonly work: number;

  constructor(
    private readonly label: string,
    private readonly total: number,
    options: TickerOptions = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.clock = options.clock ?? Date.now;
    this.work = options.work ?? total;
    this.started = this.clock();
    this.tty = Boolean(this.stream.isTTY);
  }

  /**
   * One task finished, of `work` units (default 1: tasks alike); `resumed` tasks came from a
   * previous run and do not inform the time left: the rate is the work of this run's tasks per second.
   */
  tick(note: string, resumed = false, work = 1): void {
    this.done++;
    this.doneWork += work;
    if (!resumed) this.freshWork += work;
    const elapsed = (this.clock() - this.started) / 1000;
    const eta = this.freshWork > 0 ? (Math.max(0, this.work - this.doneWork) * elapsed) / this.freshWork : NaN;
    const bar = '█'.repeat(Math.round((this.done / Math.max(1, this.total)) * 20)).padEnd(20, '░');
    const text = `${this.label} ${bar} ${this.done}/${this.total} ${formatSeconds(elapsed)}${Number.isFinite(eta) ? ` (~${formatSeconds(eta)} left)` : ''} ${note}`;
    if (this.tty) this.stream.write(`\r\x1b[2K${text.slice(0, (this.stream.columns ?? 160) - 1)}${this.done === this.total ? '\n' : ''}`);
    else this.stream.write(text + '\n');
  }
}
