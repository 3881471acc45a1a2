// The report built from a small fixture whose truth is known: at σ = 0.25, HSJA's distortion at
// n = 10 is really 1.3 times that at n = 100 (with 5% noise per image), RayS's differs only by
// 20% noise. `rs-arena report`'s engine must call the first "established" and the second "not
// established", pair them on the images, and say so in findings.json and report.html.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '@rs-arena/shared/rng';
import { type DistortionConfig, type DistortionRecord, distortionKey, imageSeed } from '../../../client/src/experiments/records/distortion.js';
import type { FindingsFile } from '../../../client/src/report/findings.js';
import { reportFromFixture } from '../../helpers/report-fixture.js';

const IMAGES = 30;
const config: DistortionConfig = {
  settings: [
    { model: 'fmnist-cnn', sigma: 0 },
    { model: 'fmnist-cnn', sigma: 0.25 },
  ],
  ns: [10, 100],
  Pas: [0.5],
  attacks: ['hsja', 'rays'],
  budget: 100,
  images: IMAGES,
  assessSamples: 100,
};

function record(sigma: number, n: number, attack: string, image: number, l2: number): DistortionRecord {
  const t = {
    model: 'fmnist-cnn',
    sigma,
    n,
    Pa: sigma === 0 ? null : 0.5,
    oracle: sigma === 0 ? 'plain' : 'shortcut',
    repeats: 1,
    attack,
    attackOptions: {},
    budget: 100,
    seed: imageSeed(image),
    assessSamples: 100,
    image,
  } as const;
  return {
    ...t,
    key: distortionKey(t),
    label: 0,
    misclassified: false,
    success: true,
    l2,
    linf: l2 / 10,
    queries: { total: 100, bad: 0, perPhase: {} },
    history: [[100, l2]],
    stopReason: 'budget',
    wallMs: 1,
    assessment: null,
  };
}

test('report from a fixture: a real difference is established, noise is not; n and intervals are stated', async () => {
  let dir = '';
  try {
    const rng = Rng.seeded(5);
    const records: DistortionRecord[] = [];
    for (let image = 0; image < IMAGES; image++) {
      const base = 1 + rng.uniform();
      records.push(record(0, 1, 'hsja', image, base), record(0, 1, 'rays', image, base));
      records.push(record(0.25, 100, 'hsja', image, 2 * base * (1 + 0.05 * rng.normal())));
      records.push(record(0.25, 10, 'hsja', image, 1.3 * 2 * base * (1 + 0.05 * rng.normal())));
      records.push(record(0.25, 100, 'rays', image, 1.5 * base * (1 + 0.2 * rng.normal())));
      records.push(record(0.25, 10, 'rays', image, 1.5 * base * (1 + 0.2 * rng.normal())));
    }
    const built = await reportFromFixture('distortion', config, 'distortion.jsonl', records);
    dir = built.dir;
    const { html } = built;
    const file = JSON.parse(readFileSync(join(dir, 'findings.json'), 'utf8')) as FindingsFile;
    assert.match(file.method, /percentile bootstrap of 10,000 resamples/);
    assert.ok(file.paper.every((f) => f.source === 'paper') && file.project.length === 0);
    const fewer = file.paper.find((f) => f.id === 'fewer-samples')!;
    // Per cell: HSJA ×1.3 established, RayS noise not established; the claim is about every attack, so as a whole not established.
    assert.match(
      fewer.evidence,
      /hsja fmnist-cnn σ=0\.25 n=100 → n=10: mean [\d.]+ → [\d.]+ .*ratio of means ×1\.(2[5-9]|3[0-5])\d \[1\.2\d\d, 1\.3\d\d\], paired on 30 images, .* → established/,
    );
    assert.match(fewer.evidence, /rays fmnist-cnn σ=0\.25 n=100 → n=10: .*paired on 30 images, .* → not established/);
    assert.equal(fewer.verdict, 'not established');
    assert.equal(fewer.n, 30);
    assert.match(html, /not established \(n = 30\)/);
    assert.match(html, /established<\/td>|established \(n/);
    // RayS's gain under RS (×1.5) is smaller than HSJA's (×2–2.6) on the same images: established.
    const rays = file.paper.find((f) => f.id === 'rays-least-affected')!;
    assert.equal(rays.verdict, 'established', rays.evidence);
    // Figures and tables state their counts.
    assert.match(html, /Per point: 30 images, 30 answered correctly and attacked, an adversarial returned on 30\./);
    assert.match(html, /accuracy ≥/);
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});
