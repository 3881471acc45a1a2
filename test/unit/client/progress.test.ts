// A long sweep's time left: from the work done per second (each task's cost in forward passes),
// not from the mean time of its first tasks, which cost a hundredfold more or less than the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distortionTasks } from '../../../client/src/experiments/records/distortion.js';
import { taskCost } from '../../../client/src/experiments/assessed-attack.js';
import { Ticker } from '../../../client/src/progress.js';

/** A Ticker on a fake clock and stream: the "(~… left)" of each line. */
function ticker(total: number, work?: number) {
  let now = 0;
  const lines: string[] = [];
  const t = new Ticker('sweep', total, { work, clock: () => now, stream: { isTTY: false, columns: 200, write: (s: string) => lines.push(s) === 0 } });
  const left = () => /\(~([^)]+) left\)/.exec(lines.at(-1)!)?.[1];
  return { t, left, at: (s: number) => (now = s * 1000) };
}

test('the time left follows the work done, not the task count', () => {
  // Three tasks of work 1, 1 and 8; the first took 10 s: 9 units left at 1 unit / 10 s.
  const w = ticker(3, 10);
  w.at(10);
  w.t.tick('a', false, 1);
  assert.equal(w.left(), '1m30s');
  // Without work, the same tick says 20 s (two tasks like the first).
  const c = ticker(3);
  c.at(10);
  c.t.tick('a');
  assert.equal(c.left(), '20s');
  // Resumed tasks count as done but not in the rate: 8 units left, 1 fresh unit in 10 s.
  const r = ticker(3, 10);
  r.t.tick('resumed', true, 1);
  r.at(10);
  r.t.tick('b', false, 1);
  assert.equal(r.left(), '1m20s');
});

test('a distortion sweep: a task at n = 100 costs five times one at n = 10 (passes plus requests), one at σ = 0 least', () => {
  const tasks = distortionTasks({
    settings: [
      { model: 'fmnist-cnn', sigma: 0 },
      { model: 'fmnist-cnn', sigma: 0.05 },
    ],
    ns: [10, 100],
    Pas: [0.5],
    attacks: ['rays'],
    budget: 2000,
    images: 4,
    imagesAtN: { '100': 2 },
    assessSamples: 4000,
  });
  const cost = (n: number, sigma: number) => taskCost(tasks.find((t) => t.n === n && t.sigma === sigma)!);
  assert.equal(cost(10, 0.05), 2000 * 20 + 4000);
  assert.equal(cost(100, 0.05), 2000 * 110 + 4000);
  assert.equal(cost(1, 0), 2000 * 11);
  assert.ok(cost(100, 0.05) / cost(10, 0.05) > 5);
});
