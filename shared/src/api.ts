// Every body that crosses HTTP, as zod schemas; server and client infer their types from here.
import { z } from 'zod';
import { TensorJson } from './tensor.js';

const DeploymentId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, dot, dash or underscore (at most 64)');

export const Role = z.enum(['client', 'evaluator', 'admin']);
export type Role = z.infer<typeof Role>;

/**
 * A base model served by an Open Inference Protocol server (Triton, KServe, another rs-arena's /v2)
 * instead of a local ONNX file: the deployment's `model` (a manifest entry) still describes its input
 * and classes; noise, votes and budgets stay local, the noisy copies are sent as infer requests.
 */
export const RemoteModelSpec = z.strictObject({
  /** Base URL of the server, with any path prefix: http(s)://host:port[/prefix]. */
  url: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u) && !/[?#]/.test(u), 'an http(s) URL without query or fragment'),
  /** The model's name on that server, and optionally its version. */
  model: z.string().min(1),
  version: z.string().min(1).optional(),
  /** Sent with every request (e.g. the remote's auth). */
  headers: z.record(z.string(), z.string()).default({}),
  /** Most inputs per infer request; larger batches are split and sent concurrently. */
  maxBatch: z.number().int().min(1).max(65_536).default(64),
  /** Connections (requests in flight) to the remote. */
  concurrency: z.number().int().min(1).max(256).default(8),
  timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
  /** Resends of a request that failed on the network or with 503 (forward passes are pure). */
  retries: z.number().int().min(0).max(10).default(2),
});
export type RemoteModelSpec = z.infer<typeof RemoteModelSpec>;

/** A defense's name in the server's registry (server/src/defenses/index.ts). */
const DefenseName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a defense name (lowercase letters, digits, dash)');

/**
 * One stage of a defense chain: a registered defense's name (its settings from the spec's top-level
 * fields), or `{name, ...settings}` (the defense validates its own settings when the deployment is created).
 */
export const DefenseStage = z.union([DefenseName, z.object({ name: DefenseName }).catchall(z.unknown())]);
export type DefenseStage = z.infer<typeof DefenseStage>;

/**
 * A deployment: a model behind a defense. Without `defense`, σ > 0 means Gaussian randomized
 * smoothing g_{σ,n} ("gaussian") and σ = 0 the undefended model ("none"), as before the field existed.
 */
export const DeploymentSpec = z.strictObject({
  id: DeploymentId,
  /** A model id from models/manifest.json. */
  model: z.string().min(1),
  /**
   * The defense (see docs/architecture.md for the registered ones): one name, or a chain such as
   * `[{"name": "blacklight"}, "gaussian"]` (screens first, then the defense that answers; without
   * one, the answer is the top-level σ's: Gaussian RS for σ > 0, else the model itself).
   */
  defense: z.union([DefenseName, z.array(DefenseStage).min(1).max(8)]).optional(),
  /** RS noise level in pixel units; 0 serves the undefended model. */
  sigma: z.number().min(0).max(10).default(0),
  /** Monte Carlo samples per query. */
  n: z.number().int().min(1).max(100_000).default(1),
  /** 'majority': the paper's g_{σ,n}. 'predict': Cohen et al.'s PREDICT, which may abstain (label −1). */
  rule: z.enum(['majority', 'predict']).default('majority'),
  /** Significance level of PREDICT's binomial test. */
  alpha: z.number().gt(0).lt(1).default(0.001),
  /** Noisy copies sent to onnxruntime in one run. */
  batchSize: z.number().int().min(1).max(4096).default(500),
  /** Seed for reproducible noise; absent: seeded from the OS CSPRNG, unpredictable to clients. */
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /** Whether σ, n, the rule, the defense and the model are shown to clients. Secure by default: nothing unless asked. */
  disclose: z.boolean().default(false),
  /** Most inputs one predict request may carry. */
  maxBatch: z.number().int().min(1).max(65_536).default(1024),
  description: z.string().max(500).optional(),
  /**
   * 'any-finite': /v2 accepts any finite input value, not only the model's range. For an undefended
   * deployment that serves as the remote base model of an RS front: x + σN leaves the pixel range.
   */
  inputRange: z.enum(['model', 'any-finite']).default('model'),
  /** Run the base model on a remote Open Inference Protocol server instead of the local ONNX file. */
  remote: RemoteModelSpec.optional(),
});
export type DeploymentSpec = z.infer<typeof DeploymentSpec>;
export type DeploymentSpecInput = z.input<typeof DeploymentSpec>;

export const DeploymentInfo = z.object({
  id: z.string(),
  /** The model id, absent where the operator does not disclose the deployment's settings. */
  model: z.string().optional(),
  description: z.string().optional(),
  dataset: z.string(),
  inputShape: z.array(z.number().int()),
  range: z.tuple([z.number(), z.number()]),
  classes: z.number().int(),
  classNames: z.array(z.string()),
  maxBatch: z.number().int(),
  /** The defense's name (stages joined by " > " for a chain), absent where not disclosed. */
  defense: z.string().optional(),
  /** Each stage of the defense chain with its settings, absent where not disclosed (secrets are never settings). */
  stages: z.array(z.object({ name: z.string(), settings: z.record(z.string(), z.unknown()) })).optional(),
  /** The defence's settings, or null where the operator does not disclose them. */
  smoothing: z.strictObject({ sigma: z.number(), n: z.number().int(), rule: z.enum(['majority', 'predict']), alpha: z.number().optional() }).nullable(),
});
export type DeploymentInfo = z.infer<typeof DeploymentInfo>;

export const DeploymentList = z.object({ deployments: z.array(DeploymentInfo) });
export type DeploymentList = z.infer<typeof DeploymentList>;

export const Usage = z.object({
  used: z.number().int(),
  /** null: unlimited. */
  limit: z.number().int().nullable(),
  remaining: z.number().int().nullable(),
});
export type Usage = z.infer<typeof Usage>;

export const InputsBody = z.object({ inputs: TensorJson });

export const PredictResponse = z.object({
  /** One top-1 label per input; −1 where Cohen's PREDICT abstains. */
  labels: z.array(z.number().int()),
  /** With `?classNames=true`: each label's class name ("" where PREDICT abstains), as KServe's classification extension names classes. */
  classNames: z.array(z.string()).optional(),
  usage: Usage,
});
export type PredictResponse = z.infer<typeof PredictResponse>;

/**
 * Query-string numbers arrive as text: an integer is digits only (no sign, hex, exponent, blank or
 * repeated parameter), a fraction plain decimal notation. JSON bodies get no coercion at all.
 */
const QueryInt = z
  .string()
  .regex(/^[0-9]{1,16}$/, 'an integer written with digits only')
  .transform(Number);
/** A query-string flag: true or false, written out. */
const QueryFlag = z.enum(['true', 'false']).transform((v) => v === 'true');
export const PredictQuery = z.strictObject({ classNames: QueryFlag.optional() });
const QueryFraction = z
  .string()
  .regex(/^(?:0|[1-9][0-9]*)?(?:\.[0-9]{1,20})?$/, 'a decimal number such as 0.001')
  .transform(Number);

const VotesN = z.number().int().min(1).max(1_000_000);
export const VotesQuery = z.object({
  /** Samples per input; defaults to the deployment's n. */
  n: QueryInt.pipe(VotesN).optional(),
  /**
   * Early stop (with `wrong` or `Pa`): stop sampling an input once `wrong` of its votes differ from
   * this label, or once that can no longer happen within n. The answer's `passes` says how many
   * forward passes each input took; "at least `wrong` differ" is decided as by all n votes.
   */
  label: QueryInt.pipe(z.number().int().min(0)).optional(),
  /** Votes that must differ from `label`: the paper's ⌈n·P_a⌉. */
  wrong: QueryInt.pipe(VotesN).optional(),
  /** Or the confidence level P_a in (0, 1]: wrong = ⌈n·P_a⌉. */
  Pa: QueryFraction.pipe(z.number().gt(0).max(1)).optional(),
});

export const VotesResponse = z.object({
  sigma: z.number(),
  n: z.number().int(),
  /** counts[i][c]: how many of the n noisy copies of input i the base model labelled c. */
  counts: z.array(z.array(z.number().int())),
  /** With an early stop: the forward passes made for input i (the sum of counts[i]), at most n. */
  passes: z.array(z.number().int()).optional(),
  usage: Usage,
});
export type VotesResponse = z.infer<typeof VotesResponse>;

const CertifyN0 = z.number().int().min(1).max(1_000_000);
const CertifyN = z.number().int().min(1).max(10_000_000);
/** CERTIFY's failure probability: above 0.5 a "certificate" would be wrong more often than not. */
const CertifyAlpha = z.number().gt(0).max(0.5);
/** CERTIFY's parameters in a JSON body (numbers, strictly). */
export const CertifyParams = z.object({
  n0: CertifyN0.default(100),
  n: CertifyN.default(100_000),
  alpha: CertifyAlpha.default(0.001),
});
/** The same parameters in the query string (with a binary or image body). */
export const CertifyQuery = z.object({
  n0: QueryInt.pipe(CertifyN0).default(100),
  n: QueryInt.pipe(CertifyN).default(100_000),
  alpha: QueryFraction.pipe(CertifyAlpha).default(0.001),
});
export const CertifyBody = InputsBody.extend(CertifyParams.shape);

const CertifyResult = z.object({
  /** Certified class, or −1 (abstain). */
  label: z.number().int(),
  abstain: z.boolean(),
  /** Count of the selected class among the n estimation samples. */
  nA: z.number().int(),
  pLower: z.number(),
  radius: z.number(),
});
export const CertifyResponse = z.object({
  sigma: z.number(),
  n0: z.number().int(),
  n: z.number().int(),
  alpha: z.number(),
  results: z.array(CertifyResult),
  usage: Usage,
});
export type CertifyResponse = z.infer<typeof CertifyResponse>;

const DeploymentUsage = z.object({
  deployment: z.string(),
  queries: z.number().int(),
  /** Base-model forward passes; absent for a client on an undisclosed deployment (it would reveal n). */
  forwardPasses: z.number().int().optional(),
  rejected: z.number().int(),
  limit: z.number().int().nullable(),
  remaining: z.number().int().nullable(),
});
export const UsageResponse = z.object({
  key: z.object({ id: z.string(), role: Role }),
  deployments: z.array(DeploymentUsage),
});
export type UsageResponse = z.infer<typeof UsageResponse>;

/** Budgets per deployment id; "*" applies to every deployment without its own entry. null: unlimited. */
export const Budgets = z.record(z.string(), z.number().int().min(0).nullable());

export const KeyCreate = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash or underscore (at most 64)')
    .optional(),
  role: Role,
  budgets: Budgets.default({}),
  /** Provide the secret yourself; otherwise the server generates one and returns it once. */
  secret: z.string().min(16).max(256).optional(),
});
export const KeyInfo = z.object({ id: z.string(), role: Role, budgets: Budgets });
export const KeyCreated = KeyInfo.extend({ secret: z.string() });
export const BudgetUpdate = z.strictObject({ deployment: z.string().min(1), limit: z.number().int().min(0).nullable() });
export const UsageReset = z.strictObject({ key: z.string().optional(), deployment: z.string().optional() });

export const ErrorBody = z.object({ error: z.string(), message: z.string() });
export type ErrorBody = z.infer<typeof ErrorBody>;

export const DeploymentSpecList = z.object({ deployments: z.array(DeploymentSpec) });
export const KeyList = z.object({ keys: z.array(KeyInfo) });
export const AllUsage = z.object({ keys: z.array(UsageResponse) });
export const Removed = z.object({ removed: z.string() });
export const ResetCount = z.object({ reset: z.number().int() });

/** Keys a deployment's detector flagged (GET /v1/admin/deployments/:id/detections). */
export const DetectionList = z.object({
  deployment: z.string(),
  keys: z.array(z.object({ key: z.string(), detections: z.number().int(), suspended: z.boolean() })),
});
export type DetectionList = z.infer<typeof DetectionList>;

/** Forget a detector's fingerprints and counts: of one key, or all (DELETE /v1/deployments/:id/detections). */
export const DetectionReset = z.object({ key: z.string().min(1).max(64).optional() }).strict();
