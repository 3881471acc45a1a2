// What a deployment does to a batch of queries, whatever the defense: answer them (top-1 labels),
// and where the defense has them, count votes or certify. Each operation states its cost in
// base-model forward passes before it runs, so the route can cap and book it first.
// Implementations live in defenses/<name>.ts and are registered in defenses/index.ts.
import type { DeploymentInfo, DeploymentSpec } from '@rs-arena/shared/api';
import type { BaseClassifier, EarlyStop } from './smoothing.js';

/** Who asks, and until when: what the model's scheduler needs of a request. */
export interface Call {
  /** Aborts when the client goes away: the work leaves the queue with smoothing's `Cancelled`, which says how many forward passes were spent. */
  signal?: AbortSignal;
  /** The caller's API key id: the model's scheduler shares the model fairly between keys. */
  key?: string;
}

/** One thing a defense can do to `count` inputs laid out back to back in `xs`. */
export interface Operation<P, R> {
  /** Base-model forward passes `run` will make for `count` inputs (at most, where `spent` says fewer). */
  cost(count: number, params: P): number;
  run(xs: Float32Array, count: number, params: P, call?: Call): Promise<R>;
  /** Forward passes actually made, where the work may stop before its cost (early-stopping votes). */
  spent?(result: R, count: number, params: P): number;
}

export interface VotesParams {
  /** Samples per input. */
  n: number;
  /** Stop sampling an input once its answer against a label is decided. */
  stop?: EarlyStop;
}

/** Vote counts [count × classes]; with an early stop, the passes made per input. */
export interface VotesOutcome {
  counts: Uint32Array;
  passes?: Uint32Array;
}

export interface CertifyParams {
  n0: number;
  n: number;
  alpha: number;
}

/** CERTIFY's answer for one input (the API's CertifyResult). */
export interface CertifyOutcome {
  label: number;
  abstain: boolean;
  nA: number;
  pLower: number;
  radius: number;
}

export interface Defense {
  /** Its name in the registry. */
  readonly name: string;
  /** Noise level reported with vote counts and certificates (0 when there is none). */
  readonly sigma: number;
  /** Samples per input when a votes request names none. */
  readonly defaultN: number;
  /** The settings a client may read where the deployment discloses them. */
  settings(): NonNullable<DeploymentInfo['smoothing']>;
  /** Top-1 labels (−1 where the defense abstains): the black box every client queries. */
  readonly predict: Operation<void, Int32Array>;
  /** Vote counts [count × classes], where the defense has votes. */
  readonly votes?: Operation<VotesParams, VotesOutcome>;
  /** Cohen et al.'s CERTIFY per input, where the defense supports it. */
  readonly certify?: Operation<CertifyParams, CertifyOutcome[]>;
}

export type Capability = 'votes' | 'certify';

/** How a registered defense is built for a deployment. */
export interface DefenseDefinition {
  readonly name: string;
  /** One line for the docs and error messages. */
  readonly summary: string;
  /**
   * The defense for a deployment of `model`. A spec whose settings do not fit this defense throws
   * `DefenseSpecError` naming the field.
   */
  create(spec: DeploymentSpec, model: BaseClassifier): Defense;
}

export class DefenseSpecError extends Error {
  override name = 'DefenseSpecError';
}
