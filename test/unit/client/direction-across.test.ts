// Fig. 1 over several images: from direction records whose truth is known (each image's π0 steps
// from 1 to 0 at its own t), the report draws the median and quartiles over the images against the
// distance in units of each image's base boundary, and its CSV holds those numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type DirectionConfig, type DirectionRecord, directionKey } from '../../../client/src/experiments/records/direction.js';
import { csvRows, reportFromFixture } from '../../helpers/report-fixture.js';

test('Fig. 1 across images: the median and quartiles over the images at each point of the ray', async () => {
  let dir = '';
  try {
    const steps = 20;
    const config: DirectionConfig = { model: 'fmnist-cnn', sigma: 0.1, images: [0, 1, 2, 3], ns: [1, 100], tMax: 2, steps, samples: 100 };
    const t = Array.from({ length: steps + 1 }, (_, i) => (i / steps) * 2);
    // Image k's boundary of g_σ at t = 0.8 + 0.1k: π0 = 1 before it, 0 after (so P[wrong] is 0 then 1 for every n).
    const records: DirectionRecord[] = [0, 1, 2, 3].map((image) => {
      const cross = 0.8 + 0.1 * image;
      const r = { model: 'fmnist-cnn', sigma: 0.1, image, l2: 1 + image, t, pi0: t.map((x) => (x < cross - 1e-9 ? 1 : 0)), samples: 100 };
      return { ...r, key: directionKey({ ...r, steps, tMax: 2 }) };
    });
    const built = await reportFromFixture('direction', config, 'direction.jsonl', records);
    dir = built.dir;
    const { html } = built;
    assert.ok(existsSync(join(dir, 'fig1-direction-across-images.png')));
    assert.match(html, /over 4 images/);
    const rows = csvRows(join(dir, 'direction-across-images.csv'));
    const at = (n: number, x: number) => rows.find((r) => r.n === n && Math.abs(r.t - x) < 1e-9)!;
    // At t = 0.9 images 0 and 1 are past their boundary (0.8, 0.9), 2 and 3 are not: median ½, quartiles 0 and 1.
    assert.deepEqual([at(100, 0.9).q25, at(100, 0.9).median, at(100, 0.9).q75, at(100, 0.9).images], [0, 0.5, 1, 4]);
    // Before every boundary nothing is adversarial; past every one everything is.
    assert.equal(at(1, 0.5).q75, 0);
    assert.equal(at(1, 1.5).q25, 1);
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});
