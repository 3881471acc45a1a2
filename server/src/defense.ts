// What a deployment does to a batch of queries, whatever the defense: answer them (top-1 labels),
// and where the defense has them, count votes or certify. Each operation states its cost in
// base-model forward passes before it runs, so the route can cap and book it first.
// Implementations live in defenses/<name>.ts and are registered in defenses/index.ts; a deployment
// is a chain of them (defense-chain.ts): screens (detectors) in front of one answering defense.
import type { z } from 'zod';
import type { DeploymentInfo, DeploymentSpec } from '@rs-arena/shared/api';
import type { BaseClassifier, EarlyStop } from './smoothing.js';
import type { Scheduler } from './scheduler.js';
import type { DefenseState } from './state/defense-state.js';

/** Who asks, and until when: what the model's scheduler needs of a request. */
interface Call {
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
  /** What a detector in the chain saw (flagged keys), for the admin API. */
  readonly detections?: Detections;
  /** Called once when its deployment is removed: forget its state. */
  removed?(): Promise<void>;
}

/** A screen (detector) in front of the answering defense: it sees every predict query first. */
export interface Screen {
  readonly name: string;
  /**
   * Looks at `count` inputs before they go on. Throws `QueryRefused` to refuse the request (it is
   * still charged: the queries were asked); returns the inputs it answers itself (index → label),
   * e.g. a random label for a detected query, or nothing.
   */
  screen(xs: Float32Array, count: number, call: Call): Promise<Map<number, number> | undefined>;
  readonly detections?: Detections;
  removed?(): Promise<void>;
}

/** One key a detector flagged. */
export interface FlaggedKey {
  key: string;
  detections: number;
  suspended: boolean;
}

export interface Detections {
  flagged(): Promise<FlaggedKey[]>;
  /** Forgets what was seen (fingerprints, counts, suspensions): of one key, or all. */
  reset(key?: string): Promise<void>;
}

/** What a defense is given when its deployment is created. */
export interface DefenseContext {
  /** The deployment's id. */
  deployment: string;
  /** The base model, with class probabilities where it has them (confidence gating). */
  model: ScoredClassifier;
  /** The model's input range (pixel space). */
  range: readonly [number, number];
  /** The model's one queue, shared by every deployment on it (the registry owns it). */
  scheduler: Scheduler;
  /** Where its state lives: the budgets' store (memory, or Redis shared by replicas). */
  state: DefenseState;
  /** Counts detected queries for the deployment's metrics (`action`: refused, suspended, random-label). */
  detected(count: number, action: string): void;
  /**
   * Another served model with its own queue, by manifest id (loaded on first use): for a defense
   * that hands part of its work to a second model (gated noise smoothing with a noise-trained one).
   * Absent where the defense is built outside a registry (benchmarks, unit tests).
   */
  modelById?(id: string): Promise<{ model: ScoredClassifier; scheduler: Scheduler }>;
}

/** A base model that can also give class probabilities (softmax) per input. */
export interface ScoredClassifier extends BaseClassifier {
  /** Probabilities [count × classes], where the model can tell them. */
  probabilities?(batch: Float32Array, count: number): Promise<Float32Array>;
}

interface DefinitionBase<S extends z.ZodType> {
  readonly name: string;
  /** One line for the docs and error messages. */
  readonly summary: string;
  /** Its settings: a strict zod object (an unknown or bad field is a 400 naming it). */
  readonly settings: S;
  /**
   * The settings of a spec that names this defense without a settings object: from the spec's
   * top-level fields (σ, n, rule, alpha, seed, batchSize), as before defenses had their own.
   */
  fromSpec?(spec: DeploymentSpec): unknown;
  /** Settings of a working instance: the docs' example and what the contract test creates. */
  readonly example: Record<string, unknown>;
}

/** A defense that answers queries (the chain's last stage): it talks to the model. */
export interface AnswerDefinition<S extends z.ZodType = z.ZodType> extends DefinitionBase<S> {
  readonly kind: 'answer';
  create(settings: z.output<S>, ctx: DefenseContext): Defense | Promise<Defense>;
}

/** A defense that screens queries in front of the answering one (a detector). */
export interface ScreenDefinition<S extends z.ZodType = z.ZodType> extends DefinitionBase<S> {
  readonly kind: 'screen';
  create(settings: z.output<S>, ctx: DefenseContext): Screen | Promise<Screen>;
}

/** Any registered defense (its settings type erased: the registry validates them with its own schema). */
export type DefenseDefinition = AnswerDefinition<z.ZodType> | ScreenDefinition<z.ZodType>;

/** Typed helpers: the settings' type flows from the schema into `create`. */
export const answerDefense = <S extends z.ZodType>(d: Omit<AnswerDefinition<S>, 'kind'>): AnswerDefinition<S> => ({ kind: 'answer', ...d });
export const screenDefense = <S extends z.ZodType>(d: Omit<ScreenDefinition<S>, 'kind'>): ScreenDefinition<S> => ({ kind: 'screen', ...d });

export class DefenseSpecError extends Error {
  override name = 'DefenseSpecError';
}

/**
 * A query a defense refuses (a detected query, a suspended key): the route answers 403 with `code`
 * and the queries stay charged (they were asked), once, also when retried with the same
 * Idempotency-Key.
 */
export class QueryRefused extends Error {
  override name = 'QueryRefused';
  constructor(
    readonly code: 'query_refused' | 'key_suspended',
    message: string,
  ) {
    super(message);
  }
}
