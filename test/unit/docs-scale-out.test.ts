// docs/scale-out.md stays true: every `rs-arena` command it shows (also those run inside the compose
// client container) parses with the CLI as it is (each is given `--help` after its own flags: an
// unknown flag is a usage error, not the help), its preset is valid and is the
// one test/e2e/queue.test.ts runs, and every variable it names is one the manifests or the compose
// file read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { parsePreset } from '../../client/src/experiments/presets.js';
import { rsArenaInProcess } from '../helpers/cli.js';
import { ROOT } from '../helpers/root.js';

const root = ROOT;
const doc = readFileSync(`${root}docs/scale-out.md`, 'utf8');
const blocks = (lang: string) => [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1].replace(/\\\n\s*/g, ''));

/** Splits a command line as a shell would here: whitespace, single and double quotes. */
const words = (line: string) => [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);

/** The rs-arena invocations of the bash blocks, their shell variables filled in. */
function invocations(): string[][] {
  const out: string[][] = [];
  for (const block of blocks('bash')) {
    for (const raw of block.split('\n')) {
      const line = raw
        .replace(/#.*$/, '')
        .replace(/\$\{?(\w+)\}?/g, (_, v: string) => (v === 'REDIS' ? 'redis://127.0.0.1:6379' : v === 'ENDPOINT' ? 'http://127.0.0.1:8080' : 'x'));
      for (const part of line.split(/&&|&|;|\|/)) {
        const w = words(part);
        const at = w.findIndex((x, i) => x === 'rs-arena' && (i === 0 || w[i - 1] === 'npx'));
        if (at >= 0) out.push(w.slice(at + 1));
        // `docker compose run … client <command> …`: the client image's entrypoint is rs-arena.
        const client = w.indexOf('client');
        if (w[0] === 'docker' && w.includes('run') && client > 0) out.push(w.slice(client + 1));
      }
    }
  }
  return out;
}

test('every rs-arena command in docs/scale-out.md parses', async () => {
  const commands = invocations();
  assert.ok(commands.length >= 10, `${commands.length} commands found`);
  for (const c of ['experiment', 'worker', 'queue'])
    assert.ok(
      commands.some((a) => a[0] === c),
      `the doc runs rs-arena ${c}`,
    );
  // In this process, its output captured (the test runner's own reports pass through: test/helpers/cli.ts).
  for (const args of commands) {
    const r = await rsArenaInProcess([...args, '--help']);
    assert.equal(r.code, 0, `rs-arena ${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stdout.length > 0);
  }
});

test("the doc's preset is valid and is the one the e2e test runs", () => {
  const [json] = blocks('json');
  const p = parsePreset(JSON.parse(json), 'docs/scale-out.md');
  const e2e = readFileSync(`${root}test/e2e/queue.test.ts`, 'utf8');
  assert.match(e2e, /preset\('q24', \['fmnist-cnn', 'fmnist-cnn-advtrain'\], \['hsja', 'surfree', 'rays'\], 50, 4\)/);
  const d = p.distortion as { settings: { model: string; sigma: number }[]; attacks: string[]; budget: number; images: number };
  assert.deepEqual(
    [d.settings.map((s) => `${s.model}/${s.sigma}`), d.attacks, d.budget, d.images],
    [['fmnist-cnn/0', 'fmnist-cnn-advtrain/0'], ['hsja', 'surfree', 'rays'], 50, 4],
  );
});

test('every RS_ARENA_ variable the doc names is read by the manifests, their renderer, the compose file or the CLI', () => {
  const sources = [
    ...readdirSync(`${root}deploy/k8s`).map((f) => readFileSync(`${root}deploy/k8s/${f}`, 'utf8')),
    readFileSync(`${root}scripts/render-k8s.ts`, 'utf8'),
    readFileSync(`${root}docker-compose.yml`, 'utf8'),
    ...readdirSync(`${root}client/src/cli`).map((f) => readFileSync(`${root}client/src/cli/${f}`, 'utf8')),
  ].join('\n');
  const named = [...new Set(doc.match(/RS_ARENA_[A-Z_]+/g))];
  assert.ok(named.length > 10);
  for (const v of named) assert.ok(sources.includes(v), `${v} is read somewhere`);
});
