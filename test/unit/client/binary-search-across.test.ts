// Fig. 3 over several images: the config takes `image` or `images` (exactly one), and from records
// whose spreads are known the report draws the first image's histogram and the spread over the
// images (interquartile range ÷ base boundary: median and quartiles per n), with its CSV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BinarySearchConfig, type BinarySearchRecord, binarySearchKey } from '../../../client/src/experiments/records/binary-search.js';
import { csvRows, reportFromFixture } from '../../helpers/report-fixture.js';

test('a binary-search config names one image or several, never both or neither', () => {
  const base = { model: 'fmnist-cnn', sigma: 0.1, ns: [1, 10], repeats: 5, tolerance: 0.01, tMax: 2 };
  assert.ok(BinarySearchConfig.safeParse({ ...base, image: 0 }).success);
  assert.ok(BinarySearchConfig.safeParse({ ...base, images: [0, 3] }).success);
  assert.match(JSON.stringify(BinarySearchConfig.safeParse({ ...base, image: 0, images: [1] }).error?.issues), /exactly one of image and images/);
  assert.match(JSON.stringify(BinarySearchConfig.safeParse(base).error?.issues), /exactly one of image and images/);
});

test('Fig. 3 across images: the relative spread per image and n, its median and quartiles over the images', async () => {
  let dir = '';
  try {
    const config = { model: 'fmnist-cnn', sigma: 0.1, images: [0, 1, 2], ns: [1, 100], repeats: 5, tolerance: 0.01, tMax: 2 };
    // Image k (base boundary 1 + k): at n = 1 outputs spread over ±(k + 1)·0.1 around 1 + k, at n = 100 none.
    const records: BinarySearchRecord[] = config.images.flatMap((image) =>
      config.ns.map((n) => {
        const w = n === 1 ? (image + 1) * 0.1 : 0;
        const outputs = [-2, -1, 0, 1, 2].map((j) => 1 + image + (j * w) / 2);
        return { key: binarySearchKey({ ...config, image, n }), model: 'fmnist-cnn', sigma: 0.1, n, image, l2: 1 + image, outputs, boundary: 1 + image };
      }),
    );
    const built = await reportFromFixture('binary-search', config, 'binary-search.jsonl', records);
    dir = built.dir;
    const { html } = built;
    assert.ok(existsSync(join(dir, 'fig3-binary-search-0.png')), 'the first image keeps the paper’s histogram');
    assert.ok(existsSync(join(dir, 'fig3-binary-search-across-images.png')));
    assert.match(html, /over 3 images/);
    const rows = csvRows(join(dir, 'binary-search-across-images.csv'));
    // IQR of [-w, -w/2, 0, w/2, w] is w: relative spreads (k + 1)·0.1 ÷ (1 + k) = 0.1 for every image at n = 1; 0 at n = 100.
    const n1 = rows.find((r) => r.n === 1)!;
    assert.equal(n1.images, 3);
    for (const q of [n1.q25, n1.median, n1.q75]) assert.ok(Math.abs(q - 0.1) < 1e-9, JSON.stringify(n1));
    assert.deepEqual([rows.find((r) => r.n === 100)!.median], [0]);
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});
