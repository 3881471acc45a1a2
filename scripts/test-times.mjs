// A second reporter for scripts/test.mjs: where the time goes. Per test file, the time of its
// top-level tests (setup at the top of a file, such as starting a server, is not in it), written to
// out/test-times.json after every test: the run ends with --test-force-exit, which does not wait
// for a reporter's end. scripts/test.mjs prints the slowest files from it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { sourcePath } from './compiled-tree.mjs';

export const TIMES_FILE = 'out/test-times.json';

export default async function* testTimes(source) {
  const files = new Map();
  // A file of the compiled tree (scripts/compiled-tree.mjs) goes by the name of its source.
  const tree = process.env.RS_ARENA_COMPILED;
  mkdirSync('out', { recursive: true });
  for await (const event of source) {
    if ((event.type !== 'test:pass' && event.type !== 'test:fail') || event.data.nesting !== 0 || !event.data.file) continue;
    const file = (tree ? sourcePath(tree, event.data.file) : undefined) ?? relative(process.cwd(), event.data.file);
    const f = files.get(file) ?? { file, tests: 0, ms: 0 };
    f.tests++;
    f.ms += Math.round(event.data.details?.duration_ms ?? 0);
    files.set(file, f);
    writeFileSync(
      TIMES_FILE,
      `${JSON.stringify(
        [...files.values()].sort((a, b) => b.ms - a.ms),
        null,
        1,
      )}\n`,
    );
  }
  yield '';
}
