// The same model in-process, for tests: the ONNX file through the server's own model and smoothing
// code, so a fast test sees exactly what the server would answer, without HTTP. It lives here, not in
// client/, because the attacker's package must not depend on the defender's (onnxruntime-node).
import { findModel, loadCatalog, resolveModel } from '@rs-arena/shared/catalog';
import { NoiseSource } from '@rs-arena/shared/noise';
import { OnnxModel } from '../../server/src/model.js';
import { TEST_MODEL_OPTIONS } from './onnx-options.js';
import { SmoothedClassifier, type VoteRule } from '../../server/src/smoothing.js';
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

export class LocalOracle implements Oracle {
  readonly inputShape: readonly [number, number, number];
  readonly range: readonly [number, number];
  private readonly smoothed: SmoothedClassifier;
  private readonly noise: NoiseSource;
  private readonly n: number;
  private readonly rule: VoteRule;

  private constructor(
    readonly model: OnnxModel,
    o: LocalOracleOptions,
  ) {
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
    // One onnxruntime thread: an attack asks a few inputs at a time, where a second thread costs more
    // than it gives (attacks.test.ts: 25 s of CPU for 26 s of wall time, 41 s for 21 s with the default pool).
    return new LocalOracle(await OnnxModel.load(resolveModel(catalog, entry), { ...TEST_MODEL_OPTIONS, threads: 1 }), options);
  }

  /** Another oracle over the same loaded model with other RS settings. */
  withSmoothing(options: LocalOracleOptions): LocalOracle {
    return new LocalOracle(this.model, options);
  }

  async predict(batch: Float32Array, count: number): Promise<Int32Array> {
    return this.smoothed.predict(batch, count, this.n, this.rule, this.noise);
  }

  close(): Promise<void> {
    return this.model.close();
  }
}
