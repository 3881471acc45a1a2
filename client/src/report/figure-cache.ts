// A results folder's figures, drawn again only when something they are drawn from changed: a rerun
// that added no record, or a report rebuilt on the same data, would otherwise spend most of its time
// in Vega and librsvg producing the same bytes (about 2 CPU-s of the smoke preset's 3). The folder's
// .figures.json records, under the fingerprint of everything that turns a spec into a picture (the
// locked dependencies, this drawing code, the shipped font, Node), the hash of each figure's
// Vega-Lite spec with the hash of the SVG it rendered to, and per figure the hashes of the SVG and
// the PNG rasterised from it. A spec seen before takes its SVG from the folder's own SVG files (the
// bytes a render would give), checked against that hash; a PNG is kept only when both files on disk
// are the ones recorded. Anything missing, edited or drawn by other code is drawn again.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FILE = '.figures.json';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

interface Stored {
  engine: string;
  /** Spec hash → hash of the SVG it rendered to. */
  svgs: Record<string, string>;
  /** Figure name → the hashes of its SVG and of the PNG rasterised from that SVG. */
  pngs: Record<string, { svg: string; png: string }>;
}

let engine: string | null | undefined;

/**
 * What a spec's picture depends on besides the spec: the lockfile (Vega, Vega-Lite, sharp and every
 * package under them, exactly), the modules that render and write figures, the font files and Node.
 * Null without a lockfile above this module (an installed package): then nothing is cached.
 */
function engineFingerprint(): string | null {
  if (engine !== undefined) return engine;
  const here = fileURLToPath(import.meta.url);
  let lock: string | null = null;
  for (let d = dirname(here); lock === null && dirname(d) !== d; d = dirname(d))
    if (existsSync(join(d, 'package-lock.json'))) lock = join(d, 'package-lock.json');
  if (lock === null) return (engine = null);
  const ext = here.endsWith('.js') ? 'js' : 'ts';
  const fonts = fileURLToPath(new URL('../../assets/fonts/', import.meta.url));
  const h = createHash('sha256').update(process.version);
  const files = [lock, ...['charts', 'fonts', 'figures', 'figure-cache'].map((m) => join(dirname(here), `${m}.${ext}`))];
  for (const f of [
    ...files,
    ...readdirSync(fonts)
      .sort()
      .map((f) => join(fonts, f)),
  ])
    h.update(basename(f)).update(readFileSync(f));
  return (engine = h.digest('hex'));
}

/**
 * A spec's hash, with the figure's key (its ids' prefix). JSON alone would conflate NaN, ±Infinity
 * and null, and -0 with 0, which Vega draws differently: they are spelled out.
 */
function specHash(spec: unknown, key: string): string {
  const json = JSON.stringify(spec, (_k, v) =>
    typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))
      ? `\u0000number:${Object.is(v, -0) ? '-0' : v}`
      : v === undefined
        ? '\u0000undefined'
        : v,
  );
  return sha(`${key}\u0000${json}`);
}

class FigureCache {
  private readonly old: Stored | null;
  private readonly next: Stored;
  /** The folder's SVG files by hash, read on the first spec seen before. */
  private files?: Map<string, string>;

  constructor(
    readonly dir: string,
    engine: string,
  ) {
    let old: Stored | null = null;
    try {
      const raw = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as Stored;
      if (raw.engine === engine && raw.svgs && raw.pngs) old = raw;
    } catch {
      // None yet, or unreadable: everything is drawn.
    }
    this.old = old;
    this.next = { engine, svgs: {}, pngs: {} };
  }

  svg(spec: unknown, key: string): { hash: string; svg?: string } {
    const hash = specHash(spec, key);
    const want = this.old?.svgs[hash];
    if (want === undefined) return { hash };
    this.files ??= new Map(
      readdirSync(this.dir)
        .filter((f) => f.endsWith('.svg'))
        .map((f) => {
          const svg = readFileSync(join(this.dir, f), 'utf8');
          return [sha(svg), svg];
        }),
    );
    const svg = this.files.get(want);
    if (svg !== undefined) this.next.svgs[hash] = want;
    return { hash, svg };
  }

  rendered(hash: string, svg: string): void {
    this.next.svgs[hash] = sha(svg);
  }

  /** Whether `name`.svg holds `svg` and `name`.png is the PNG recorded as rasterised from it. */
  current(name: string, svg: string): boolean {
    const p = this.old?.pngs[name];
    if (!p || p.svg !== sha(svg)) return false;
    try {
      if (sha(readFileSync(join(this.dir, `${name}.svg`), 'utf8')) !== p.svg || sha(readFileSync(join(this.dir, `${name}.png`))) !== p.png) return false;
    } catch {
      return false;
    }
    this.next.pngs[name] = p;
    return true;
  }

  wrote(name: string, svg: string, png: Buffer): void {
    this.next.pngs[name] = { svg: sha(svg), png: sha(png) };
  }

  /** Keeps what this build used (what it no longer draws is dropped). */
  save(): void {
    writeFileSync(join(this.dir, FILE), JSON.stringify(this.next));
  }
}

const active = new AsyncLocalStorage<FigureCache>();

/** The cache of the report being built (withFigureCache), for figures written into `dir`. */
export function figureCache(dir?: string): FigureCache | undefined {
  const c = active.getStore();
  return c && (dir === undefined || c.dir === dir) ? c : undefined;
}

/** Runs `build` (a report of `dir`) with the folder's figure cache; saves it when the build succeeds. */
export async function withFigureCache<T>(dir: string, build: () => Promise<T>): Promise<T> {
  const engine = engineFingerprint();
  if (engine === null) return build();
  const cache = new FigureCache(dir, engine);
  const out = await active.run(cache, build);
  cache.save();
  return out;
}
