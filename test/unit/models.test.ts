// The shipped models: the manifest validates, every committed ONNX file matches its sha256, loads
// in onnxruntime-node with the declared interface, and reproduces the manifest's clean accuracies on
// the shipped sample exactly; the smoothed model's labels, with the manifest's seeded noise, are
// pinned image by image. The external ImageNet models
// are checked against the reference predictions when ../shared/imagenet is present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Manifest } from '@rs-arena/shared/manifest';
import { loadCatalog, loadSample, resolveModel, sha256File } from '@rs-arena/shared/catalog';
import { imageToTensor } from '@rs-arena/shared/image';
import { OnnxModel } from '../../server/src/model.js';
import { smoothedLabels } from '../../models/accuracy.js';
import { TEST_MODEL_OPTIONS } from '../helpers/onnx-options.js';
import { IMAGENET_DIR, SKIP_IMAGENET, int8Reference } from '../helpers/imagenet.js';

const catalog = loadCatalog();
const sample = loadSample(catalog);
const committed = catalog.manifest.models.filter((m) => m.source === 'committed');
// One onnxruntime thread: the runs here are CPU-bound batches beside another test file, where a
// second thread costs more than it gives (this file: 9.4 CPU-s → 7.9, and its wall time less too).
const ONE_THREAD = { ...TEST_MODEL_OPTIONS, threads: 1 };
/** fmnist-cnn smoothed at σ = 0.25, n = 100, seed 0 (the manifest's): its labels of the first 250 sample images (78 of them correct). */
const SMOOTHED_0_25 = [
  '86556566556583636686658556638688538655586168686366',
  '68566686868885156388866665168658585636665568386366',
  '36568858866556568656668836865565858661651666565366',
  '66365665835635686866656568668168665886656836368351',
  '16686665886586333656856685668688868655865688686666',
].join('');

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
    const model = await OnnxModel.load(resolved, ONE_THREAD);
    try {
      const logits = await model.logits(sample.images.subarray(0, 3 * 784), 3);
      assert.equal(logits.length, 30);
      const labels = await model.predict(sample.images, sample.count);
      const clean = labels.reduce((a, p, i) => a + (p === sample.labels[i] ? 1 : 0), 0) / sample.count;
      assert.equal(clean, entry.accuracy!.sample, 'clean accuracy on the sample');
      // The smoothed model: the same seeded noise must give the same answers. One σ, on the first
      // model (the noise and the vote are the same code for every model, whose weights the sha256
      // and the exact clean accuracy above already pin). Each of the first 250 images' labels is
      // pinned, ±2 images for floating-point differences between CPUs near a decision boundary:
      // 25,000 forward passes, and a stronger check than the manifest's figure on all 1,000 images
      // (100,000 passes, ±2 images too), where the images a change of the noise flips cancel out.
      // Measured, the seeds 1–8 instead of 0 changed 4–8 of these 250 labels; the count correct
      // of all 1,000 moved by 3, 3 and 6 (seeds 0, 1, 2 pairwise). `npm run models:accuracy`
      // measures the manifest's 12 figures on 1,000.
      if (index === 0) {
        const s = entry.accuracy!.smoothed.find((s) => s.sigma === 0.25)!;
        const got = await smoothedLabels(model, sample.images, SMOOTHED_0_25.length, s.sigma, s.n, s.seed);
        const differ = [...got].flatMap((label, i) => (String(label) === SMOOTHED_0_25[i] ? [] : [i]));
        assert.ok(differ.length <= 2, `σ=${s.sigma}: images ${differ} changed; the labels now: ${got.join('')}`);
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
      const model = await OnnxModel.load(resolved, { ...ONE_THREAD, maxBatch: 32 });
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
