// The same model in-process: the ONNX file through the server's own model and smoothing code, so
// fast tests and local experiments see exactly what the server would answer, without HTTP.
import { findModel, loadCatalog, resolveModel } from '@rs-arena/shared/catalog';
import { NoiseSource } from '@rs-arena/shared/noise';
import { OnnxModel } from '@rs-arena/server/model';
import { SmoothedClassifier, type VoteRule } from '@rs-arena/server/smoothing';
import type { Oracle } from './oracle.js';

export interface LocalOracleOptions {
  /** RS noise level; 0 (default) is the undefended model. */
  sigma?: number;
  n?: number;
  rule?: VoteRule;
  /** Noise seed (default: unpredictable). */
  seed?: number;
  batchSize?: number;
}

export class LocalOracle implements Oracle {
  readonly inputShape: readonly [number, number, number];
  readonly range: readonly [number, number];
  private readonly smoothed: SmoothedClassifier;
  private readonly noise: NoiseSource;
  private readonly n: number;
  private readonly rule: VoteRule;
  /** Calls and inputs received: the ground truth a counting test compares with. */
  calls = 0;
  inputs = 0;

  private constructor(readonly model: OnnxModel, o: LocalOracleOptions) {
    this.inputShape = model.inputShape;
    this.range = model.model.entry.input.range;
    this.smoothed = new SmoothedClassifier(model, o.sigma ?? 0, o.batchSize ?? 500);
    this.noise = o.seed === undefined ? NoiseSource.fromCrypto() : NoiseSource.seeded(o.seed);
    this.n = o.n ?? 1;
    this.rule = o.rule ?? { rule: 'majority' };
  }

  /** Loads a model of models/manifest.json by id. */
  static async load(modelId: string, options: LocalOracleOptions = {}): Promise<LocalOracle> {
    const catalog = loadCatalog();
    const entry = findModel(catalog, modelId);
    if (!entry) throw new Error(`no model "${modelId}" in the manifest`);
    return new LocalOracle(await OnnxModel.load(resolveModel(catalog, entry)), options);
  }

  /** Another oracle over the same loaded model with other RS settings. */
  withSmoothing(options: LocalOracleOptions): LocalOracle {
    return new LocalOracle(this.model, options);
  }

  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    this.calls++;
    this.inputs += count;
    return this.smoothed.predict(batch, count, this.n, this.rule, this.noise);
  }

  /** Vote counts per class over n noisy copies of each input (what the evaluator's /votes answers). */
  async votes(batch: Float32Array, count: number, n: number): Promise<number[][]> {
    const counts = await this.smoothed.votes(batch, count, n, this.noise);
    const classes = counts.length / count;
    return Array.from({ length: count }, (_, i) => Array.from(counts.subarray(i * classes, (i + 1) * classes)));
  }

  close(): Promise<void> {
    return this.model.close();
  }
}
