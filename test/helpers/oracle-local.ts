// The same model in-process, for tests: the ONNX file through the server's own model and smoothing
// code, so a fast test sees exactly what the server would answer, without HTTP. It lives here, not in
// client/, because the attacker's package must not depend on the defender's (onnxruntime-node).
import { createHash } from 'node:crypto';
import { findModel, loadCatalog, resolveModel } from '@rs-arena/shared/catalog';
import { NoiseSource } from '@rs-arena/shared/noise';
import { OnnxModel } from '../../server/src/model.js';
import { TEST_MODEL_OPTIONS } from './onnx-options.js';
import { type BaseClassifier, SmoothedClassifier, type VoteRule } from '../../server/src/smoothing.js';
import type { Oracle } from '../../client/src/oracle.js';

export interface LocalOracleOptions {
  /** RS noise level; 0 (default) is the undefended model. */
  sigma?: number;
  n?: number;
  rule?: VoteRule;
  /** Noise seed (default: unpredictable). */
  seed?: number;
  batchSize?: number;
}

/**
 * The model's labels, remembered by input (its bytes' SHA-1): the model is deterministic, so an input
 * asked again is answered as the model answered it, without a forward pass. Attacks repeat inputs
 * (a noise-aware attack asks the same point many times; a run at a larger budget starts with the
 * queries of the run at the smaller one; a reproducibility check repeats a whole run, its noisy
 * copies included): in attacks.test.ts about a fifth of the inputs were repeats.
 */
class RememberedModel implements BaseClassifier {
  readonly inputSize: number;
  readonly classes: number;
  private readonly labels = new Map<string, number>();

  constructor(private readonly model: OnnxModel) {
    this.inputSize = model.inputSize;
    this.classes = model.classes;
  }

  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    const d = this.inputSize;
    const out = new Int32Array(count);
    const keys: string[] = [];
    const missing: number[] = [];
    for (let i = 0; i < count; i++) {
      const row = batch.subarray(i * d, (i + 1) * d);
      const key = createHash('sha1')
        .update(new Uint8Array(row.buffer, row.byteOffset, row.byteLength))
        .digest('base64');
      keys.push(key);
      const label = this.labels.get(key);
      if (label === undefined) missing.push(i);
      else out[i] = label;
    }
    if (missing.length === 0) return out;
    let rows = batch.subarray(0, count * d);
    if (missing.length < count) {
      rows = new Float32Array(missing.length * d);
      missing.forEach((i, j) => rows.set(batch.subarray(i * d, (i + 1) * d), j * d));
    }
    const answers = await this.model.predict(rows, missing.length);
    missing.forEach((i, j) => {
      out[i] = answers[j];
      this.labels.set(keys[i], answers[j]);
    });
    return out;
  }
}

export class LocalOracle implements Oracle {
  readonly inputShape: readonly [number, number, number];
  readonly range: readonly [number, number];
  private readonly smoothed: SmoothedClassifier;
  private readonly noise: NoiseSource;
  private readonly n: number;
  private readonly rule: VoteRule;

  private constructor(
    readonly model: OnnxModel,
    private readonly remembered: RememberedModel,
    o: LocalOracleOptions,
  ) {
    this.inputShape = model.inputShape;
    this.range = model.model.entry.input.range;
    this.smoothed = new SmoothedClassifier(remembered, o.sigma ?? 0, o.batchSize ?? 500);
    this.noise = o.seed === undefined ? NoiseSource.fromCrypto() : NoiseSource.seeded(o.seed);
    this.n = o.n ?? 1;
    this.rule = o.rule ?? { rule: 'majority' };
  }

  /** Loads a model of models/manifest.json by id. */
  static async load(modelId: string, options: LocalOracleOptions = {}): Promise<LocalOracle> {
    const catalog = loadCatalog();
    const entry = findModel(catalog, modelId);
    if (!entry) throw new Error(`no model "${modelId}" in the manifest`);
    // One onnxruntime thread: an attack asks a few inputs at a time, where a second thread costs more
    // than it gives (attacks.test.ts: 25 s of CPU for 26 s of wall time, 41 s for 21 s with the default pool).
    const model = await OnnxModel.load(resolveModel(catalog, entry), { ...TEST_MODEL_OPTIONS, threads: 1 });
    return new LocalOracle(model, new RememberedModel(model), options);
  }

  /** Another oracle over the same loaded model (and its remembered answers) with other RS settings. */
  withSmoothing(options: LocalOracleOptions): LocalOracle {
    return new LocalOracle(this.model, this.remembered, options);
  }

  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    return this.smoothed.predict(batch, count, this.n, this.rule, this.noise);
  }

  close(): Promise<void> {
    return this.model.close();
  }
}

/**
 * What the server would refuse with a 400, which an attack must never send: a value outside the
 * oracle's range, or a batch that is not `count` whole inputs. A loop, not findIndex: a callback per
 * value was ten times slower over the millions of values an attack test sends.
 */
export function assertServable(batch: Float32Array, count: number, [lo, hi]: readonly [number, number], inputSize = 784): void {
  let bad = -1;
  for (let j = 0; j < batch.length && bad < 0; j++) if (!(batch[j] >= lo && batch[j] <= hi)) bad = j;
  if (bad >= 0) throw new Error(`attack sent value ${batch[bad]} at ${bad}, outside [${lo}, ${hi}]`);
  if (batch.length !== count * inputSize) throw new Error(`batch of ${batch.length} values for ${count} inputs`);
}
