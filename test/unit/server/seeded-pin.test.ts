// Old deployment specs serve exactly as before the defense seam moved (defenses with their own
// settings, the noise out of the scheduler): seeded answers and votes pinned from commit 6f6caa2
// (before the move), computed there with this test's deployments and images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { float32ToBytes } from '@rs-arena/shared/tensor';
import { auth, images, testApp } from '../../helpers/app.js';

const DEPLOYMENTS = [
  { id: 'rs', model: 'fmnist-cnn-randtrain', sigma: 0.25, n: 10, seed: 1, batchSize: 64, maxBatch: 64 },
  { id: 'cohen', model: 'fmnist-cnn', sigma: 0.5, n: 10, rule: 'predict', alpha: 0.001, seed: 2 },
  { id: 'named', model: 'fmnist-cnn', defense: 'gaussian', sigma: 0.3, n: 7, seed: 5, batchSize: 16 },
];

/** Labels of images 0–39 (predict), then votes (n = 25) of images 40–43, at commit 6f6caa2. */
const PINNED: Record<string, { labels: number[]; votes: number[][] }> = {
  rs: {
    labels: [9, 2, 1, 1, 6, 1, 2, 6, 5, 7, 4, 5, 7, 3, 4, 1, 2, 6, 8, 0, 2, 5, 7, 5, 1, 2, 4, 0, 9, 4, 8, 8, 3, 3, 8, 0, 7, 5, 7, 9],
    votes: [
      [25, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      [0, 25, 0, 0, 0, 0, 0, 0, 0, 0],
      [19, 0, 0, 0, 0, 0, 6, 0, 0, 0],
      [0, 0, 0, 0, 0, 0, 0, 17, 0, 8],
    ],
  },
  cohen: {
    labels: [
      -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
      -1, -1,
    ],
    votes: [
      [0, 0, 0, 0, 0, 0, 23, 0, 2, 0],
      [0, 0, 0, 0, 0, 23, 0, 0, 2, 0],
      [0, 0, 0, 2, 0, 0, 13, 0, 10, 0],
      [0, 0, 0, 0, 0, 5, 0, 0, 20, 0],
    ],
  },
  named: {
    labels: [8, 6, 5, 5, 6, 5, 5, 6, 5, 5, 6, 5, 8, 3, 6, 3, 8, 6, 8, 6, 6, 8, 8, 5, 5, 8, 6, 3, 8, 6, 8, 8, 5, 6, 8, 6, 5, 5, 8, 8],
    votes: [
      [0, 0, 0, 0, 0, 0, 25, 0, 0, 0],
      [0, 10, 0, 3, 0, 9, 1, 0, 2, 0],
      [0, 0, 0, 9, 0, 0, 12, 0, 4, 0],
      [0, 0, 0, 0, 0, 9, 0, 0, 16, 0],
    ],
  },
};

test('seeded deployments written before defense chains answer bit-identically (labels and votes pinned from 6f6caa2)', async () => {
  const app = await testApp({ deployments: DEPLOYMENTS });
  try {
    for (const { id } of DEPLOYMENTS) {
      const predict = await app.inject({
        method: 'POST',
        url: `/v1/deployments/${id}/predict`,
        headers: { ...auth('evaluator'), 'content-type': 'application/octet-stream' },
        payload: Buffer.from(float32ToBytes(images(40).values)),
      });
      const votes = await app.inject({
        method: 'POST',
        url: `/v1/deployments/${id}/votes?n=25`,
        headers: { ...auth('evaluator'), 'content-type': 'application/octet-stream' },
        payload: Buffer.from(float32ToBytes(images(4, 40).values)),
      });
      assert.deepEqual({ labels: predict.json().labels, votes: votes.json().counts }, PINNED[id], id);
    }
  } finally {
    await app.close();
  }
});
