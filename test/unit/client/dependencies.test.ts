// The attacker apart from the defender: neither the client's package nor any of its modules reaches
// server code or onnxruntime, so an installed @rs-arena/client carries none of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../../helpers/root.js';

const root = ROOT;
const FORBIDDEN = /^(@rs-arena\/server|onnxruntime-node)(\/|$)/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? sources(path) : /\.(ts|mjs)$/.test(e.name) ? [path] : [];
  });
}

test("the client's packages depend on shared only, never on the server", () => {
  for (const pkg of ['client', 'shared']) {
    const json = JSON.parse(readFileSync(join(root, pkg, 'package.json'), 'utf8'));
    const deps = Object.keys({ ...json.dependencies, ...json.peerDependencies, ...json.optionalDependencies });
    assert.deepEqual(
      deps.filter((d) => FORBIDDEN.test(d)),
      [],
      `${pkg}/package.json`,
    );
  }
});

test('no module of the client imports server code', () => {
  const files = [...sources(join(root, 'client/src')), ...sources(join(root, 'client/bin'))];
  assert.ok(files.length > 20);
  const arrows: string[] = [];
  for (const file of files) {
    for (const { fileName: spec } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      const target = spec.startsWith('.') ? relative(root, resolve(dirname(file), spec)) : spec;
      if (FORBIDDEN.test(spec) || target.startsWith('server/')) arrows.push(`${relative(root, file)} → ${spec}`);
    }
  }
  assert.deepEqual(arrows, []);
});
