// Presets are validated by the experiments' own config schemas, keyed by experiment name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRESETS, PresetError, parsePreset } from '../../../client/src/experiments/presets.js';
import { EXPERIMENT_NAMES } from '../../../client/src/experiments/registry.js';

test('every built-in preset validates; its keys are experiment names', () => {
  for (const [name, raw] of Object.entries(PRESETS)) {
    const p = parsePreset(raw, name);
    assert.equal(p.name, name);
    for (const k of Object.keys(p)) assert.ok(['name', 'description', ...EXPERIMENT_NAMES].includes(k), `${name}: ${k}`);
  }
});

test('a bad preset is an error naming the source and the field', () => {
  const smoke = PRESETS.smoke as Record<string, Record<string, unknown>>;
  const bad = (patch: Record<string, unknown>) => () => parsePreset({ ...smoke, ...patch }, 'my.json');
  assert.throws(bad({ distortion: { ...smoke.distortion, ns: 3 } }), (e: Error) => e instanceof PresetError && /^my\.json: distortion\.ns: /.test(e.message));
  assert.throws(bad({ distortion: { ...smoke.distortion, attacks: ['hsja', 'fgsm'] } }), /my\.json: distortion\.attacks\.1: unknown attack "fgsm"/);
  assert.throws(
    bad({ distortion: { ...smoke.distortion, attackOptions: { hsja: { constraint: 'l7' } } } }),
    /my\.json: distortion\.attackOptions\.hsja\.constraint: /,
  );
  assert.throws(bad({ slice: { ...smoke.slice, grid: 'big' } }), /my\.json: slice\.grid: /);
  assert.throws(bad({ sweep: {} }), /my\.json: .*sweep/);
  // Results folders written before presets were keyed by experiment name: binarySearch → binary-search.
  const { 'binary-search': bs, ...rest } = smoke;
  assert.deepEqual(parsePreset({ ...rest, binarySearch: bs }, 'old')['binary-search'], bs);
});
