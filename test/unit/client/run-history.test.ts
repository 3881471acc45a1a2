// A preset run in parts (`--only`) or resumed: preset.json keeps every command that made the
// folder, and the report names them all, not only the last one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Preset } from '../../../client/src/experiments/presets.js';
import { recordRun } from '../../../client/src/experiments/run.js';
import { buildReport } from '../../../client/src/report/report.js';

const preset = (name: string) => ({ name, description: 'runs in parts' }) as unknown as Preset;
const runsOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'preset.json'), 'utf8')).runs.map((r: { command: string }) => r.command);

test('each run of a preset is kept in preset.json, oldest first, and the report lists them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-arena-runs-'));
  try {
    // A folder written before `runs` existed: its one command counts as the first run.
    writeFileSync(
      join(dir, 'preset.json'),
      JSON.stringify({ preset: preset('parts'), command: 'rs-arena experiment --preset parts --only accuracy', startedAt: '2026-12-01T10:00:00Z' }),
    );
    recordRun(dir, preset('parts'), 'rs-arena experiment --preset parts --only distortion', '2026-12-02T01:00:00Z');
    recordRun(dir, preset('parts'), 'rs-arena experiment --preset parts --only distortion --concurrency 8', '2026-12-02T02:00:00Z');
    assert.deepEqual(runsOf(dir), [
      'rs-arena experiment --preset parts --only accuracy',
      'rs-arena experiment --preset parts --only distortion',
      'rs-arena experiment --preset parts --only distortion --concurrency 8',
    ]);
    const meta = JSON.parse(readFileSync(join(dir, 'preset.json'), 'utf8'));
    assert.equal(meta.command, 'rs-arena experiment --preset parts --only distortion --concurrency 8', 'the latest run stays in `command`');
    const html = readFileSync(await buildReport(dir), 'utf8');
    assert.match(html, /Made by 3 runs/);
    for (const c of ['--only accuracy</code>, started 2026-12-01T10:00:00Z', '--only distortion</code>', '--concurrency 8</code>'])
      assert.ok(html.includes(c), c);
    // Another preset in the same folder starts afresh.
    recordRun(dir, preset('other'), 'rs-arena experiment --preset other');
    assert.deepEqual(runsOf(dir), ['rs-arena experiment --preset other']);
    assert.match(readFileSync(await buildReport(dir), 'utf8'), /Made by <code>rs-arena experiment --preset other<\/code>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
