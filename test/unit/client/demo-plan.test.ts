// What `npm run demo` runs: quick by default, everything with --full, and bad options refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTACK_NAMES } from '../../../client/src/attacks/index.js';
import { UsageError } from '../../../client/src/cli/args.js';
import { DEMO_HELP, demoPlan } from '../../../client/src/demo-plan.js';

test('the default is the quick demo: 2 images, HSJA, SurFree, RayS and the noise-aware PSJ, 1,000 queries', () => {
  const plan = demoPlan([]);
  assert.equal(plan.images, 2);
  assert.deepEqual(plan.attacks, ['hsja', 'surfree', 'rays', 'psj']);
  assert.equal(plan.budget, 1000);
  assert.equal(plan.out, 'out/demo/results.jsonl');
});

test('--full runs every registered attack on 6 images; --images, --attacks and --budget override', () => {
  const full = demoPlan(['--full']);
  assert.deepEqual(full.attacks, ATTACK_NAMES);
  assert.equal(full.images, 6);
  assert.equal(demoPlan(['--full', '--images', '3']).images, 3);
  assert.deepEqual(demoPlan(['--attacks', 'rays,hsja', '--budget', '200']).attacks, ['rays', 'hsja']);
  assert.equal(demoPlan(['--budget', '200']).budget, 200);
  for (const name of ATTACK_NAMES) assert.ok(DEMO_HELP.includes(name), `--help names ${name}`);
  assert.match(DEMO_HELP, /--full/);
});

test('bad demo options are usage errors naming the problem', () => {
  assert.throws(
    () => demoPlan(['--images', '0']),
    (err) => err instanceof UsageError && /--images 0: a positive integer/.test(err.message),
  );
  assert.throws(
    () => demoPlan(['--budget', 'lots']),
    (err) => err instanceof UsageError && /--budget lots/.test(err.message),
  );
  assert.throws(
    () => demoPlan(['--attacks', 'hsja,hjsa']),
    (err) => err instanceof UsageError && /unknown attack "hjsa" \(did you mean "hsja"\?\)/.test(err.message),
  );
  assert.throws(
    () => demoPlan(['--ful']),
    (err) => err instanceof UsageError && /did you mean --full/.test(err.message),
  );
});
