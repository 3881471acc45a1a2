// Input-deterministic smoothing: Gaussian RS whose noise for an input is seeded by a keyed hash
// (HMAC-SHA256 with the deployment's secret) of the input's bytes. The same input always gets the
// same answer, so an attacker repeating a query learns nothing new from it (Lucas et al. 2023:
// randomness helps persistent attackers, who can resample), while any changed input gets fresh,
// unpredictable noise: over many inputs the answers are distributed as g_{σ,n}'s. The secret lives
// in the deployment's state (shared by replicas, which therefore answer alike). Off by default.
import { createHash, createHmac } from 'node:crypto';
import { z } from 'zod';
import { Rng } from '@rs-arena/shared/rng';
import { answerDefense, type Defense } from '../defense.js';
import type { CopyNoise } from '../smoothing.js';
import { smoothingDefense, smoothingFromSpec, smoothingSettings } from './gaussian.js';

const Settings = z.object(smoothingSettings).strict();

export const deterministic = answerDefense({
  name: 'deterministic',
  summary: 'input-deterministic RS: noise seeded by a keyed hash of the input, so a repeated query gets the same answer',
  settings: Settings,
  example: { sigma: 0.25, n: 20 },
  fromSpec: smoothingFromSpec,
  async create(s, { model, scheduler, state }): Promise<Defense> {
    const secret = await state.secret('deterministic');
    const size = model.inputSize;
    /** The noise of one request: copy c of input i is drawn from a stream seeded by H(HMAC(secret, x_i), c). */
    const noiseFor = (xs: Float32Array, count: number): CopyNoise => {
      const keys = Array.from({ length: count }, (_, i) => {
        const x = xs.subarray(i * size, (i + 1) * size);
        return createHmac('sha256', secret)
          .update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength))
          .digest();
      });
      const next = new Uint32Array(count);
      return {
        fillCopies(out, x, input, sigma) {
          // One stream per copy, each filled whole: the noise does not depend on how copies are batched.
          for (let at = 0; at < out.length; at += size) {
            const seed = createHash('sha256')
              .update(keys[input])
              .update(String(next[input]++))
              .digest();
            const rng = Rng.fromWords([seed.readUInt32LE(0), seed.readUInt32LE(4), seed.readUInt32LE(8), seed.readUInt32LE(12)]);
            rng.fillNormal(out.subarray(at, at + size), x, sigma);
          }
        },
      };
    };
    // The selection and estimation samples of CERTIFY continue one input's copy count: independent draws.
    return { ...smoothingDefense('deterministic', s, model, scheduler, noiseFor, false), removed: () => state.drop() };
  },
});
