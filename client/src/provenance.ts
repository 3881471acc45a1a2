// Which code made a record: an attack's code version is a hash of its source and of every source
// file it imports, transitively (within client/src and shared/src), so a change to the attack, to a
// helper it uses (dct.ts, vec.ts, the sequential test) or to the run that wraps it (attack-run.ts,
// oracle.ts) gives a new version, and a change elsewhere (the report, another attack) does not.
// The hash is over each file's code as esbuild prints it back with whitespace minified (comments,
// layout, quote style, redundant parentheses, trailing commas and types gone), not its text: a
// change that only reformats or re-comments the code (the Biome format of the tree) leaves every
// record current, while any change to what the code does gives a new version. Outside the
// repository (the npm package: compiled JavaScript, no sources) it is the package's version. The report compares each record's version with the current one (stale records are
// marked, a cell mixing versions is refused) and the experiments rerun stale records.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const CLIENT_SRC = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(CLIENT_SRC, '../..');
/** The run every attack goes through: part of every attack's version. */
const RUN_FILES = ['attack-run.ts', 'oracle.ts'];
/** The registry lists every attack: followed, it would make each attack's version every attack's. */
const REGISTRY = join(CLIENT_SRC, 'attacks', 'index.ts');

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/g;

/** A source file's imports, as paths of source files (relative ones and @rs-arena/shared ones). */
function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1];
    if (spec.startsWith('.')) out.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
    else if (spec.startsWith('@rs-arena/shared')) {
      const sub = spec.slice('@rs-arena/shared'.length).replace(/^\//, '');
      const base = join(ROOT, 'shared/src', sub || 'index');
      out.push(existsSync(`${base}.ts`) ? `${base}.ts` : join(base, 'index.ts'));
    }
  }
  return out;
}

/** Every source file `entry` depends on, itself included, sorted by path. */
export function sourceClosure(entries: string[]): string[] {
  const seen = new Set<string>();
  const stack = [...entries];
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file) || file === REGISTRY || !existsSync(file)) continue;
    seen.add(file);
    stack.push(...importsOf(file, readFileSync(file, 'utf8')));
  }
  return [...seen].sort();
}

const cache = new Map<string, string>();

/** esbuild, from the repository's dev dependencies: only where the sources are, so never in the npm package. */
let esbuild: typeof import('esbuild') | undefined;

/** A source file's code, canonical: esbuild's whitespace-minified print of it (what the code does, not how it is laid out). */
export function canonicalCode(file: string): string {
  esbuild ??= createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  return esbuild.transformSync(readFileSync(file, 'utf8'), { loader: 'ts', minifyWhitespace: true, legalComments: 'none' }).code;
}

/**
 * The code version of attack `name`: "code:" and 12 hex digits of a sha256 over the relative path and
 * canonical code of each file of its source closure (attacks/<name>.ts, what it imports, and the run
 * around it); "pkg:<version>" where the sources are not there.
 */
export function attackCodeVersion(name: string): string {
  let v = cache.get(name);
  if (v === undefined) {
    const entry = join(CLIENT_SRC, 'attacks', `${name}.ts`);
    if (!existsSync(entry)) {
      const pkg = JSON.parse(readFileSync(join(CLIENT_SRC, '..', 'package.json'), 'utf8')) as { version: string };
      v = `pkg:${pkg.version}`;
    } else {
      const hash = createHash('sha256');
      for (const file of sourceClosure([entry, ...RUN_FILES.map((f) => join(CLIENT_SRC, f))])) {
        hash.update(relative(ROOT, file)).update('\0').update(canonicalCode(file)).update('\0');
      }
      v = `code:${hash.digest('hex').slice(0, 12)}`;
    }
    cache.set(name, v);
  }
  return v;
}
