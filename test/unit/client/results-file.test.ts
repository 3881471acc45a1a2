// The results files: every record read is validated, a torn write is skipped, an invalid record is
// an error naming the file and line, and the committed results (written before the records shared
// one schema) still read, with the fields they lack derived from their config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attackRecords, attackRecordKey } from '../../../client/src/campaign.js';
import { distortion, distortionTasks } from '../../../client/src/experiments/records/distortion.js';
import { recordSpec } from '../../../client/src/experiments/records/experiment.js';
import { parsePreset } from '../../../client/src/experiments/presets.js';
import { reportContext } from '../../../client/src/report/report.js';
import { SECTIONS } from '../../../client/src/report/sections/index.js';
import { ResultsFile, ResultsFileError, readRecords } from '../../../client/src/results-file.js';
import type { AttackRecord } from '../../../client/src/record.js';

const record = (image: string, extra: Partial<AttackRecord> = {}): AttackRecord => ({
  key: '',
  attack: 'hsja',
  attackOptions: {},
  budget: 100,
  seed: 0,
  misclassified: false,
  success: true,
  l2: 1,
  linf: 0.1,
  queries: { total: 100, bad: 3, perPhase: { init: { queries: 100, bad: 3 } } },
  history: [[10, 1]],
  stopReason: 'budget',
  wallMs: 5,
  image,
  endpoint: 'http://127.0.0.1:1',
  deployment: 'plain',
  trueLabel: 1,
  originalLabel: 1,
  adversarialLabel: 2,
  clientCpuMs: 1,
  adversarialFile: null,
  previewFile: null,
  finishedAt: '2026-01-01T00:00:00Z',
  ...extra,
});

test('a results file: torn writes skipped, later records win, an invalid record names the file, line and field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-arena-results-'));
  try {
    const path = join(dir, 'r.jsonl');
    const file = new ResultsFile(path, attackRecords);
    file.add(record('a'));
    file.add(record('b'));
    appendFileSync(path, '{"key":"x","image":"c","att'); // interrupted mid-line
    const resumed = new ResultsFile(path, attackRecords); // starts the next record on a fresh line
    resumed.add(record('c'));
    resumed.add(record('a', { l2: 0.5 }));
    const all = [...readRecords(path, attackRecords).values()];
    assert.deepEqual(
      all.map((r) => [r.image, r.l2]),
      [
        ['a', 0.5],
        ['b', 1],
        ['c', 1],
      ],
    );
    appendFileSync(path, JSON.stringify({ ...record('d'), queries: { total: 'many' } }) + '\n');
    assert.throws(
      () => readRecords(path, attackRecords),
      (e: Error) => e instanceof ResultsFileError && /r\.jsonl:6: invalid record: queries\.total: /.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the campaign key holds endpoint, deployment, attack, options (with defaults filled), budget, seed and image', () => {
  const base = record('a');
  const key = attackRecordKey(base);
  for (const change of [
    { endpoint: 'http://127.0.0.1:2' },
    { deployment: 'rs' },
    { attack: 'rays' },
    { attackOptions: { gamma: 10 } },
    { budget: 101 },
    { seed: 1 },
    { image: 'b' },
  ]) {
    assert.notEqual(attackRecordKey({ ...base, ...change }), key, JSON.stringify(change));
  }
  // Options as given and completed with their defaults are the same run (old records hold the given ones).
  assert.equal(attackRecordKey({ ...base, attackOptions: { gamma: 1, constraint: 'l2' } }), key);
});

for (const name of ['paper-fmnist', 'paper-imagenet']) {
  test(`the committed results/${name} validate, and every distortion task of its preset has its record`, () => {
    const dir = join('results', name);
    const { ctx, meta } = reportContext(dir);
    const preset = parsePreset(meta.preset, `${dir}/preset.json`);
    for (const s of SECTIONS) {
      if (preset[s.experiment.name] === undefined) continue;
      const lines = readFileSync(join(dir, s.experiment.file), 'utf8').trim().split('\n').length;
      assert.ok(ctx.records(s.experiment).length > 0, s.experiment.name);
      assert.ok(ctx.records(s.experiment).length <= lines);
    }
    const config = ctx.config(distortion)!;
    const tasks = distortionTasks(config);
    const records = ctx.records(distortion);
    assert.equal(records.length, tasks.length);
    // Old records: the total query count became the QueryCounts object; budget, seed, options and assessment samples come from the config.
    for (const r of records) {
      assert.ok(r.queries.total <= config.budget * r.repeats);
      assert.equal(r.budget, config.budget);
      assert.equal(r.seed, 1000 * r.image + 17);
    }
  });
}

test('an old distortion record is upgraded on read; a new one is read as written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-arena-results-'));
  try {
    const config = { settings: [{ model: 'm', sigma: 0 }], ns: [1], Pas: [0.5], attacks: ['hsja'], budget: 50, images: 1, assessSamples: 10 };
    const path = join(dir, 'distortion.jsonl');
    const old = {
      key: 'm|0|1|null|plain|1|hsja|0',
      model: 'm',
      sigma: 0,
      n: 1,
      Pa: null,
      oracle: 'plain',
      repeats: 1,
      attack: 'hsja',
      image: 0,
      label: 3,
      misclassified: false,
      success: true,
      l2: 1,
      linf: 0.2,
      queries: 50,
      badQueries: 7,
      history: [],
      stopReason: 'budget',
      wallMs: 1,
      assessment: null,
    };
    writeFileSync(path, JSON.stringify(old) + '\n');
    const [r] = [...readRecords(path, recordSpec(distortion, config)).values()];
    assert.deepEqual(r.queries, { total: 50, bad: 7, perPhase: {} });
    assert.deepEqual([r.budget, r.seed, r.assessSamples, r.attackOptions], [50, 17, 10, {}]);
    assert.equal(distortion.select!([r], config).length, 1);
    // Under a config with another budget it is not the same run.
    assert.equal(distortion.select!([r], { ...config, budget: 60 }).length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
