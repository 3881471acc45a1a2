// A test server: the shipped Fashion-MNIST models behind a few deployments, with known keys.
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/src/app.js';
import { parseConfig, type ServerConfig } from '../../server/src/config.js';
import { loadCatalog, loadSample } from '@rs-arena/shared/catalog';
import { float32ToBytes } from '@rs-arena/shared/tensor';

export const KEYS = {
  admin: 'test-admin-key-0123456789',
  evaluator: 'test-evaluator-key-0123456789',
  client: 'test-client-key-0123456789',
};

export const TEST_DEPLOYMENTS = [
  // Disclosed on purpose (a deployment discloses nothing unless asked): the tests read σ and n back.
  { id: 'plain', model: 'fmnist-cnn', sigma: 0, n: 1, maxBatch: 64, disclose: true },
  { id: 'rs', model: 'fmnist-cnn-randtrain', sigma: 0.25, n: 10, seed: 1, batchSize: 64, maxBatch: 64, disclose: true },
  { id: 'cohen', model: 'fmnist-cnn', sigma: 0.5, n: 10, rule: 'predict', alpha: 0.001, seed: 2, disclose: true },
  { id: 'hidden', model: 'fmnist-cnn-randtrain', sigma: 0.25, n: 5, disclose: false },
];

export function testConfig(extra: Record<string, unknown> = {}, clientBudget: number | null = null): ServerConfig {
  const config = parseConfig({ logLevel: 'silent', deployments: TEST_DEPLOYMENTS, ...extra }, 'test');
  config.envKeys = [
    { id: 'admin', role: 'admin', secret: KEYS.admin, budgets: {} },
    { id: 'evaluator', role: 'evaluator', secret: KEYS.evaluator, budgets: {} },
    { id: 'client', role: 'client', secret: KEYS.client, budgets: { '*': clientBudget } },
  ];
  return config;
}

export function testApp(extra: Record<string, unknown> = {}, clientBudget: number | null = null): Promise<FastifyInstance> {
  return buildApp(testConfig(extra, clientBudget), { logger: false });
}

export const auth = (role: keyof typeof KEYS) => ({ authorization: `Bearer ${KEYS[role]}` });

const sample = loadSample(loadCatalog());
export const INPUT_SIZE = 784;

/** The first `count` shipped test images (from `start`), as one float32 batch, with labels. */
export function images(count: number, start = 0): { values: Float32Array; labels: number[] } {
  return {
    values: sample.images.slice(start * INPUT_SIZE, (start + count) * INPUT_SIZE),
    labels: Array.from(sample.labels.subarray(start, start + count)),
  };
}

export function binary(values: Float32Array) {
  return { headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.from(float32ToBytes(values)) };
}
