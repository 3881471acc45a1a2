// The shipped models: the manifest validates, every committed ONNX file matches its sha256, loads
// in onnxruntime-node with the declared interface, and reproduces the manifest's accuracies on the
// shipped sample (clean exactly; smoothed with the same seeded noise). The external ImageNet models
// are checked against the reference predictions when ../shared/imagenet is present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Manifest } from '@rs-arena/shared/manifest';
import { loadCatalog, loadSample, resolveModel, sha256File } from '@rs-arena/shared/catalog';
import { imageToTensor } from '@rs-arena/shared/image';
import { OnnxModel } from '../../server/src/model.js';
import { smoothedAccuracy } from '../../models/accuracy.js';
import { TEST_MODEL_OPTIONS } from '../helpers/onnx-options.js';
import { IMAGENET_DIR, SKIP_IMAGENET, int8Reference } from '../helpers/imagenet.js';

const catalog = loadCatalog();
const sample = loadSample(catalog);
const committed = catalog.manifest.models.filter((m) => m.source === 'committed');

test('the manifest validates and lists the three Fashion-MNIST models and the ImageNet ones', () => {
  const raw = JSON.parse(readFileSync(join(catalog.dir, 'manifest.json'), 'utf8'));
  assert.ok(Manifest.safeParse(raw).success);
  assert.deepEqual(
    committed.map((m) => m.id),
    ['fmnist-cnn', 'fmnist-cnn-randtrain', 'fmnist-cnn-advtrain'],
  );
  assert.ok(catalog.manifest.models.some((m) => m.source === 'external' && m.id === 'imagenet-mobilenetv2-int8'));
  for (const m of committed) {
    assert.ok(m.accuracy!.testSet! >= 0.8, `${m.id} test accuracy`);
    assert.equal(m.accuracy!.smoothed.map((s) => s.sigma).join(), '0.05,0.15,0.25,0.5', `${m.id} smoothed accuracies recorded`);
    assert.ok(m.flops! < 20e6, `${m.id} is small`);
  }
  assert.ok(committed[0].accuracy!.testSet! >= 0.91, 'standard CNN reaches 91% on the full test set');
});

test('the shipped sample: the first 1,000 Fashion-MNIST test images', () => {
  assert.equal(sample.count, 1000);
  assert.deepEqual(sample.shape, [1, 28, 28]);
  assert.equal(sample.images.length, 1000 * 784);
  assert.ok(sample.images.every((v) => v >= 0 && v <= 1));
  const perClass = new Array(10).fill(0);
  for (const l of sample.labels) perClass[l]++;
  assert.ok(
    perClass.every((c) => c >= 80),
    `class balance ${perClass}`,
  );
  assert.deepEqual(Array.from(sample.labels.subarray(0, 5)), [9, 2, 1, 1, 6]); // Fashion-MNIST's t10k labels start 9 2 1 1 6
});

committed.forEach((entry, index) => {
  test(`${entry.id}: sha256, ONNX interface and the manifest's accuracies`, { timeout: 300_000 }, async () => {
    const resolved = resolveModel(catalog, entry);
    assert.equal(resolved.status, 'ok', resolved.problem);
    assert.equal(sha256File(resolved.path), entry.sha256);
    const model = await OnnxModel.load(resolved, TEST_MODEL_OPTIONS);
    try {
      const logits = await model.logits(sample.images.subarray(0, 3 * 784), 3);
      assert.equal(logits.length, 30);
      const labels = await model.predict(sample.images, sample.count);
      const clean = labels.reduce((a, p, i) => a + (p === sample.labels[i] ? 1 : 0), 0) / sample.count;
      assert.equal(clean, entry.accuracy!.sample, 'clean accuracy on the sample');
      // Smoothed accuracy: the same seeded noise must give the same answers (±2 images for
      // floating-point differences between CPUs near a decision boundary). One figure, on the first
      // model: each costs 100,000 forward passes (10 CPU-s here), and the noise and the vote are the
      // same code for every model, whose weights the sha256 and the exact clean accuracy above
      // already pin. `npm run models:accuracy` measures all 12.
      if (index === 0) {
        const s = entry.accuracy!.smoothed.find((s) => s.sigma === 0.25)!;
        const acc = await smoothedAccuracy(model, sample.images, sample.labels, sample.count, s.sigma, s.n, s.seed);
        assert.ok(Math.abs(acc - s.accuracy) <= 0.002, `σ=${s.sigma}: ${acc} vs manifest ${s.accuracy}`);
      }
    } finally {
      await model.close();
    }
  });
});

test('ImageNet models reproduce the reference top-1 on all 200 images (the int8 model: as measured for this CPU kind)', {
  skip: SKIP_IMAGENET,
  timeout: 300_000,
}, async () => {
  const saved = process.env.RS_ARENA_IMAGENET_DIR;
  process.env.RS_ARENA_IMAGENET_DIR = IMAGENET_DIR;
  try {
    const rows = readFileSync(join(IMAGENET_DIR, 'expected_predictions.tsv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((r) => r.split('\t'));
    const inputs = await Promise.all(
      rows.map(([file]) => imageToTensor(readFileSync(join(IMAGENET_DIR, 'images', file)), { shape: [3, 224, 224], resize: 'crop' })),
    );
    const batch = new Float32Array(inputs.length * 150528);
    inputs.forEach((x, i) => batch.set(x, i * 150528));
    // SqueezeNet is fp32 and matches the reference on any CPU; the int8 MobileNetV2 depends on the CPU's int8 kernels.
    const int8 = int8Reference();
    const expected = [
      { id: 'imagenet-mobilenetv2-int8', column: 2, agree: int8.agree, correct: int8.correct, tolerance: int8.tolerance },
      { id: 'imagenet-squeezenet1.1', column: 3, agree: 200, correct: 131, tolerance: 2 },
    ];
    for (const { id, column, agree: expectedAgree, correct: expectedCorrect, tolerance } of expected) {
      const resolved = resolveModel(catalog, catalog.manifest.models.find((m) => m.id === id)!);
      assert.equal(resolved.status, 'ok', resolved.problem);
      assert.equal(resolved.classNames[0], 'tench');
      const model = await OnnxModel.load(resolved, { ...TEST_MODEL_OPTIONS, maxBatch: 32 });
      const labels = await model.predict(batch, rows.length);
      await model.close();
      const agree = rows.filter((r, i) => Number(r[column].split(',')[0]) === labels[i]).length;
      const correct = rows.filter((r, i) => Number(r[1]) === labels[i]).length;
      const isa = id.includes('int8') ? ` on ${int8.isa}` : '';
      assert.ok(Math.abs(agree - expectedAgree) <= tolerance, `${id}: ${agree}/200 agree with expected_predictions.tsv, expected ${expectedAgree}${isa}`);
      assert.ok(Math.abs(correct - expectedCorrect) <= tolerance, `${id}: ${correct}/200 correct, expected ${expectedCorrect}${isa}`);
    }
  } finally {
    if (saved === undefined) delete process.env.RS_ARENA_IMAGENET_DIR;
    else process.env.RS_ARENA_IMAGENET_DIR = saved;
  }
});
