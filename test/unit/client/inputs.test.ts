// Campaign inputs: the shipped sample, a folder of images (with labels from a file or from
// ImageNet-style names), a raw float32 file; each checked against the deployment before any query.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { InputError, loadInputs } from '../../../client/src/inputs.js';
import { float32ToBytes } from '@rs-arena/shared/tensor';

const fmnist = { shape: [1, 28, 28] as const, range: [0, 1] as const, dataset: 'fashion-mnist' };

test('the shipped sample: offset and count, with true labels', async () => {
  const imgs = await loadInputs({ source: 'sample', offset: 10, count: 3 }, fmnist);
  assert.deepEqual(
    imgs.map((i) => i.id),
    ['sample:10', 'sample:11', 'sample:12'],
  );
  assert.ok(imgs.every((i) => i.values.length === 784 && i.label !== null && i.label >= 0 && i.label < 10));
  await assert.rejects(loadInputs({ source: 'sample' }, { ...fmnist, shape: [3, 224, 224], dataset: 'imagenet' }), /shipped sample has 784-value images/);
});

test('a folder of PNGs: resized to the input, labels from a file or from wnid names', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-inputs-'));
  const grey = (v: number, w: number, h: number) =>
    sharp({ create: { width: w, height: h, channels: 3, background: { r: v, g: v, b: v } } })
      .png()
      .toBuffer();
  writeFileSync(join(dir, 'b.png'), await grey(255, 56, 40));
  writeFileSync(join(dir, 'a.png'), await grey(51, 20, 20));
  writeFileSync(join(dir, 'notes.txt'), 'ignored');
  writeFileSync(join(dir, 'labels.json'), JSON.stringify({ 'a.png': 3, 'b.png': 7 }));
  const imgs = await loadInputs({ source: dir, labels: join(dir, 'labels.json') }, fmnist);
  assert.deepEqual(
    imgs.map((i) => [i.id, i.label]),
    [
      ['dir:a.png', 3],
      ['dir:b.png', 7],
    ],
  );
  assert.ok(imgs[0].values.every((v) => Math.abs(v - 0.2) < 1e-6));
  assert.ok(imgs[1].values.every((v) => v === 1));
  // ImageNet-style: labels.tsv one level up, files named by wnid.
  const root = mkdtempSync(join(tmpdir(), 'rs-inputs-in-'));
  mkdirSync(join(root, 'images'));
  writeFileSync(join(root, 'labels.tsv'), '0\tn01440764\ttench\n1\tn01443537\tgoldfish\n');
  writeFileSync(
    join(root, 'images', 'n01443537_goldfish.JPEG'),
    await sharp({ create: { width: 300, height: 260, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer(),
  );
  const [fish] = await loadInputs({ source: join(root, 'images') }, { shape: [3, 224, 224], range: [0, 1], dataset: 'imagenet' });
  assert.equal(fish.label, 1);
  assert.equal(fish.values.length, 3 * 224 * 224);
  // Unlabelled folder: null labels (the endpoint's answer will be used).
  const [unl] = await loadInputs({ source: dir, count: 1 }, fmnist);
  assert.equal(unl.label, null);
});

test('raw float32 files: whole inputs only, values within the range', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-inputs-raw-'));
  const good = join(dir, 'x.f32');
  writeFileSync(good, float32ToBytes(new Float32Array(784 * 2).fill(0.5)));
  writeFileSync(join(dir, 'labels.txt'), '4\n9\n');
  const imgs = await loadInputs({ source: good, labels: join(dir, 'labels.txt') }, fmnist);
  assert.deepEqual(
    imgs.map((i) => [i.id, i.label]),
    [
      ['raw:0', 4],
      ['raw:1', 9],
    ],
  );
  writeFileSync(join(dir, 'short.f32'), float32ToBytes(new Float32Array(700)));
  await assert.rejects(loadInputs({ source: join(dir, 'short.f32') }, fmnist), /2800 bytes is not a whole number of float32 inputs of 1×28×28/);
  const bad = new Float32Array(784).fill(0.5);
  bad[17] = 1.5;
  writeFileSync(join(dir, 'bad.f32'), float32ToBytes(bad));
  await assert.rejects(
    loadInputs({ source: join(dir, 'bad.f32') }, fmnist),
    (e: Error) => e instanceof InputError && /value 1.5 at index 17 is outside/.test(e.message),
  );
  await assert.rejects(loadInputs({ source: join(dir, 'missing') }, fmnist), /no such file or folder/);
});
