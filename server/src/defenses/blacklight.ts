// Blacklight-style stateful detection (Li et al., USENIX Security 2022): every predict query's
// fingerprint (fingerprint.ts: salted, quantized, top-k window hashes) is compared with the earlier
// ones; a query sharing at least `threshold` hashes with one of them is detected. Query attacks probe
// many near-identical points, benign traffic rarely repeats itself. A screen: it stands in front of
// the defense that answers (e.g. `[{"name": "blacklight"}, "gaussian"]`) and sees only what the
// client sent, never the server's own noise.
//
// State (fingerprints, detections per key, the secret salt) lives in the deployment's defense state:
// in Redis with REDIS_URL, so replicas share it and it survives restarts. Memory is bounded: each
// scope keeps at most `maxEntries` fingerprints, none older than `maxAgeSeconds`.
import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { DefenseSpecError, QueryRefused, screenDefense, type FlaggedKey, type Screen } from '../defense.js';
import { defaultWindow, fingerprint, hashKeyFrom, saltFrom } from '../fingerprint.js';

const Settings = z
  .object({
    /** Shared hashes (of `keep`) that make a query a near-duplicate of an earlier one (default by input size: `defaultThreshold`). */
    threshold: z.number().int().min(1).max(1000).optional(),
    /** Quantization step on the 0–255 scale. */
    step: z.number().gt(0).max(255).default(50),
    /** Window and stride over the flattened query (default by input size: 20/1 small, 50/25 at ImageNet size). */
    window: z.number().int().min(1).max(1_000_000).optional(),
    stride: z.number().int().min(1).max(1_000_000).optional(),
    /** Hashes kept per fingerprint. */
    keep: z.number().int().min(1).max(1000).default(50),
    /** 'keyed' (fast, default) or 'sha256' (the release's) window hash. */
    hash: z.enum(['keyed', 'sha256']).default('keyed'),
    /**
     * Leave out windows whose values, unsalted, quantize to one level (flat background), unless too
     * few others are left: on Fashion-MNIST every image shares its background windows with every
     * other, and 4–14% of distinct test images were flagged without this (0 of 1,000 with it).
     */
    skipFlat: z.boolean().default(true),
    /** 'key': a query is compared with its own key's earlier ones; 'global': with every key's (many accounts). */
    scope: z.enum(['key', 'global']).default('key'),
    /** 'refuse': a detected query is refused (403, charged); 'suspend': refused, and the key refused everything after `suspendAfter` detections; 'random-label': answered with a random label. */
    policy: z.enum(['refuse', 'suspend', 'random-label']).default('refuse'),
    suspendAfter: z.number().int().min(1).max(1_000_000).default(3),
    /** Fingerprints kept per scope (the oldest leave first). */
    maxEntries: z.number().int().min(1).max(10_000_000).default(100_000),
    /** Fingerprints older than this leave (0: kept until `maxEntries` pushes them out). */
    maxAgeSeconds: z
      .number()
      .int()
      .min(0)
      .max(365 * 86_400)
      .default(7 * 86_400),
  })
  .strict()
  .refine((s) => s.threshold === undefined || s.threshold <= s.keep, { message: 'must be at most keep (the hashes a fingerprint holds)', path: ['threshold'] });

/**
 * The release's threshold is 25 (of 50 hashes) for CIFAR- and ImageNet-size inputs. A one-channel
 * image of at most 32×32 has few windows that are not background, and at 25 a benign stream of
 * Fashion-MNIST images re-sent after mild changes was flagged 4.1% [3.6, 4.7] of the time (204 of 5,000,
 * 198 of them JPEG re-encodings); at 40, 1 of 5,000, with HSJA still detected on 10 of 10 images by
 * its 20th query (bench:defenses). So such small inputs default to 40.
 */
export const defaultThreshold = (inputSize: number): number => (inputSize <= 1024 ? 40 : 25);

/** Counter names in the defense state. */
const DETECTIONS = 'detections';

export const blacklight = screenDefense({
  name: 'blacklight',
  summary: 'stateful detection (Blacklight): refuses a query whose salted window hashes repeat an earlier query’s',
  settings: Settings,
  example: { threshold: 25 },
  async create(s, { model, state, range, detected }): Promise<Screen> {
    const { window, stride } = { ...defaultWindow(model.inputSize), ...(s.window ? { window: s.window } : {}), ...(s.stride ? { stride: s.stride } : {}) };
    if (window > model.inputSize) throw new DefenseSpecError(`window: ${window} exceeds the model's ${model.inputSize} input values`);
    const threshold = s.threshold ?? Math.min(defaultThreshold(model.inputSize), s.keep);
    // The stage's settings as this model resolves them: what a disclosed deployment shows.
    Object.assign(s, { window, stride, threshold });
    // The salt and hash key are the deployment's secret, the same on every replica (the release's
    // salt follows from a public NumPy seed: anyone could recompute it).
    const secret = await state.secret('blacklight');
    const salt = saltFrom(secret, model.inputSize);
    const key = hashKeyFrom(secret);
    const fp = { step: s.step, window, stride, keep: s.keep, hash: s.hash, skipFlat: s.skipFlat };
    const limits = { maxEntries: s.maxEntries, maxAgeSeconds: s.maxAgeSeconds };
    const size = model.inputSize;
    const suspended = (detections: number) => s.policy === 'suspend' && detections >= s.suspendAfter;
    return {
      name: 'blacklight',
      async screen(xs, count, call) {
        const who = call.key ?? '';
        if (s.policy === 'suspend' && suspended(await state.counter(DETECTIONS, who))) {
          detected(count, 'suspended');
          throw new QueryRefused('key_suspended', `key "${who}" is suspended on this deployment after ${s.suspendAfter} detected queries`);
        }
        const scope = s.scope === 'key' ? who : '*';
        const flagged: number[] = [];
        for (let i = 0; i < count; i++) {
          const hashes = fingerprint(xs.subarray(i * size, (i + 1) * size), range, salt, fp, key);
          if ((await state.matchAndAdd(scope, hashes, limits)) >= threshold) flagged.push(i);
        }
        if (flagged.length === 0) return undefined;
        const total = await state.increment(DETECTIONS, who, flagged.length);
        if (s.policy === 'random-label') {
          detected(flagged.length, 'random-label');
          return new Map(flagged.map((i) => [i, randomInt(model.classes)]));
        }
        detected(flagged.length, 'refused');
        const what = count === 1 ? 'this query resembles' : `${flagged.length} of these ${count} queries resemble`;
        const then = suspended(total) ? `; key "${who}" is now suspended on this deployment` : '';
        throw new QueryRefused('query_refused', `${what} an earlier query (stateful detection): refused and charged${then}`);
      },
      detections: {
        async flagged(): Promise<FlaggedKey[]> {
          const all = await state.counters(DETECTIONS);
          return [...all]
            .filter(([, n]) => n > 0)
            .map(([k, n]) => ({ key: k, detections: n, suspended: suspended(n) }))
            .sort((a, b) => b.detections - a.detections);
        },
        reset: (k) => state.reset(k),
      },
      removed: () => state.drop(),
    };
  },
});
