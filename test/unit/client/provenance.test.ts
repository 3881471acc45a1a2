// Provenance: an attack's code version follows its own source closure (not another attack's), the
// report refuses a cell that mixes versions unless asked and counts stale records, and an
// experiment resumes only from records of the current code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { attackCodeVersion, canonicalCode, sourceClosure } from '../../../client/src/provenance.js';
import { resumable } from '../../../client/src/experiments/assessed-attack.js';
import { MixedVersionsError, checkVersions, type Versioned } from '../../../client/src/report/versions.js';

test('the source closure follows relative and @rs-arena/shared imports, transitively', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-arena-closure-'));
  try {
    writeFileSync(join(dir, 'a.ts'), "import { b } from './b.js';\nexport const a = b;\n");
    writeFileSync(join(dir, 'b.ts'), "export { c as b } from './c.js';\n");
    writeFileSync(join(dir, 'c.ts'), 'export const c = 1;\n');
    writeFileSync(join(dir, 'unused.ts'), 'export const u = 1;\n');
    assert.deepEqual(
      sourceClosure([join(dir, 'a.ts')]).map((f) => relative(dir, f)),
      ['a.ts', 'b.ts', 'c.ts'],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const seq = sourceClosure([join(import.meta.dirname, '../../../client/src/attacks/geoda-seq.ts')]).map((f) =>
    relative(join(import.meta.dirname, '../../..'), f),
  );
  for (const f of [
    'client/src/attacks/geoda.ts',
    'client/src/attacks/sequential-attack.ts',
    'client/src/oracle-sequential.ts',
    'client/src/dct.ts',
    'shared/src/rng.ts',
  ])
    assert.ok(seq.includes(f), `${f} in geoda-seq's closure`);
  assert.ok(!seq.includes('client/src/attacks/hsja.ts'), 'another attack is not');
});

test('each attack has its own code version, stable within a process', () => {
  const versions = ['hsja', 'surfree', 'rays', 'geoda', 'geoda-seq'].map(attackCodeVersion);
  for (const v of versions) assert.match(v, /^code:[0-9a-f]{12}$/);
  assert.equal(new Set(versions).size, versions.length);
  assert.equal(attackCodeVersion('hsja'), versions[0]);
});

test('the version follows what the code does, not its layout: reformatting and comments keep it, a changed constant does not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canon-'));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return canonicalCode(join(dir, name));
  };
  const base = write('a.ts', 'export const f = (x: number): number => {\n  return (x * 2) + 1; // twice, plus one\n};\n');
  // The Biome-style reformat: other quotes, layout, trailing commas, a redundant parenthesis gone, another comment, a type.
  assert.equal(write('b.ts', '/* doubled */\nexport const f = (x: number) => {\n  return x * 2 + 1;\n};\n'), base);
  assert.equal(write('c.ts', "export const g = ['a', 'b',];\n"), write('d.ts', 'export const g = [\n  "a",\n  "b"\n];\n'));
  assert.notEqual(write('e.ts', 'export const f = (x: number): number => {\n  return x * 2 + 2;\n};\n'), base);
  assert.notEqual(write('f.ts', 'export const f = (x: number): number => {\n  return x * (2 + 1);\n};\n'), base);
});

const rec = (image: number, codeVersion?: string): Versioned & { image: number } => ({
  attack: 'rays',
  codeVersion,
  attackOptions: {},
  model: 'm',
  sigma: 0.25,
  n: 10,
  Pa: 0.5,
  oracle: 'shortcut',
  repeats: 1,
  budget: 100,
  image,
});

test('the report refuses a cell of mixed versions unless allowed, and counts stale records', () => {
  const current = attackCodeVersion('rays');
  assert.deepEqual(checkVersions('d.jsonl', [rec(0, current), rec(1, current)], false), { total: 2, stale: 0 });
  // Old records without a version: one version ("unknown"), all stale.
  assert.deepEqual(checkVersions('d.jsonl', [rec(0), rec(1)], false), { total: 2, stale: 2 });
  assert.throws(
    () => checkVersions('d.jsonl', [rec(0), rec(1, current)], false),
    (e: Error) =>
      e instanceof MixedVersionsError &&
      /d\.jsonl: 1 cell mixes .*rays.*unknown \(not recorded\), code:/.test(e.message) &&
      /--allow-mixed-versions/.test(e.message),
  );
  assert.deepEqual(checkVersions('d.jsonl', [rec(0), rec(1, current)], true), { total: 2, stale: 1 });
  // Another setting is another cell: no mixing.
  assert.deepEqual(checkVersions('d.jsonl', [rec(0), { ...rec(1, current), sigma: 0.5 }], false), { total: 2, stale: 1 });
});

test('an experiment resumes from records of the current code only (unless asked to keep stale ones)', () => {
  assert.equal(resumable({}, rec(0, attackCodeVersion('rays'))), true);
  assert.equal(resumable({}, rec(0, 'code:000000000000')), false);
  assert.equal(resumable({}, rec(0)), false);
  assert.equal(resumable({ keepStale: true }, rec(0)), true);
  assert.equal(resumable({}, undefined), false);
});
