// The same-algorithm control of each noise-aware attack (attacks/controls.ts): the plain attack it
// decides with, given exactly the options in which the noise-aware variant departs from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controlOf } from '../../../client/src/attacks/controls.js';
import { ATTACK_NAMES, decidesAtLevel } from '../../../client/src/attacks/index.js';
import { PRESETS, parsePreset } from '../../../client/src/experiments/presets.js';

test('each noise-aware attack has its plain algorithm as control, with the options its variant changes', () => {
  // geoda-seq widens GeoDA's probes to 0.3·dist and stops its bisection at 2% (geoda-seq.ts); rays-seq at 1%.
  assert.deepEqual(controlOf('geoda-seq'), { attack: 'geoda', options: { probeFactor: 0.3, tolerance: 0.02 } });
  assert.deepEqual(controlOf('rays-seq'), { attack: 'rays', options: { tolerance: 0.01 } });
  assert.deepEqual(controlOf('surfree-seq'), { attack: 'surfree', options: {} });
  // PSJ is HSJA rebuilt for randomized answers: its control is HSJA as run everywhere else.
  assert.deepEqual(controlOf('psj'), { attack: 'hsja', options: {} });
  for (const a of ATTACK_NAMES) assert.equal(controlOf(a) === undefined, !decidesAtLevel(a), a);
  assert.equal(controlOf('fgsm'), undefined);
});

test("a run's own options carry over to its control; the sequential test's do not", () => {
  assert.deepEqual(controlOf('geoda-seq', { Pa: 0.5, alpha: 0.01, searchAlpha: 0.25, probeFactor: 0.1 }), {
    attack: 'geoda',
    options: { probeFactor: 0.1, tolerance: 0.02 },
  });
  // Set back to the plain attack's default: nothing to give the control.
  assert.deepEqual(controlOf('rays-seq', { tolerance: 1e-3 }), { attack: 'rays', options: {} });
  assert.throws(() => controlOf('geoda-seq', { probeFactor: -1 }));
});

test("the paper's protocol runs each noise-aware attacker's control under the shortcut", () => {
  const c = parsePreset(PRESETS['paper-protocol'], 'paper-protocol')['confidence-cost'] as {
    attackers: { attack: string }[];
    shortcut: { attacks: unknown[] };
  };
  assert.deepEqual(
    c.shortcut.attacks,
    c.attackers.map((a) => controlOf(a.attack)),
  );
});
