// What an attack run records. `AttackRun` is what every run of one attack on one image produces,
// wherever it runs (a campaign, the distortion experiment, …); each kind of results file extends it
// with its own fields (`AttackRecord` here for `rs-arena attack`, the experiments' records in
// experiments/records/). Types are inferred from these schemas, never written twice.
import { z } from 'zod';
import { Adaptive, AdaptiveOutcome } from './adaptive.js';

export const PhaseCount = z.object({ queries: z.number().int(), bad: z.number().int(), refused: z.number().int().optional() });
const QueryCounts = z.object({
  total: z.number().int(),
  bad: z.number().int(),
  perPhase: z.record(z.string(), PhaseCount),
  /** Queries the endpoint refused (a detector's 403: charged, so also in `total`); absent: none. */
  refused: z.number().int().optional(),
  /** Queries spent when the first refusal came (it included): "queries to first detection". */
  firstRefusedAt: z.number().int().nullable().optional(),
});

export const AttackRun = z.object({
  /** The resume key the record was written under (readers recompute it from the fields). */
  key: z.string(),
  attack: z.string(),
  /** The attack's options, completed with their defaults. */
  attackOptions: z.record(z.string(), z.unknown()),
  budget: z.number().int(),
  seed: z.number().int(),
  /** x0 was already answered with another label: nothing to attack (counts against accuracy). */
  misclassified: z.boolean(),
  success: z.boolean(),
  /** Distortion in [0,1] pixel space; null when misclassified or nothing was found. */
  l2: z.number().nullable(),
  linf: z.number().nullable(),
  queries: QueryCounts,
  /** (queries used, best L2 so far), each time the best improved. */
  history: z.array(z.tuple([z.number(), z.number()])),
  /** Why the attack stopped (attacks/attack.ts StopReason; `budget-refused`: cut short by the server, not done). */
  stopReason: z.string(),
  wallMs: z.number(),
  /** The endpoint's answer on the clean image (as the attack's oracle gave it); null if never asked. Absent in older records. */
  cleanLabel: z.number().int().nullable().optional(),
  /**
   * Provenance: the attack's code version (provenance.ts: a hash of its source closure, or the
   * package version) and its options completed with their defaults. Absent on records written
   * before they were recorded: of unknown version, so stale.
   */
  codeVersion: z.string().optional(),
  resolvedOptions: z.record(z.string(), z.unknown()).optional(),
  /**
   * Made by a queue worker (client/src/queue/journal.ts): the attempt that made the record, the
   * queries of it answered from the journal of earlier attempts (not asked again), and the queries
   * earlier attempts spent whose answers were lost with their worker; that attempt's budget was the
   * task's minus those, so the endpoint was never asked more than the budget in total.
   */
  recovery: z.object({ attempt: z.number().int(), replayed: z.number().int(), lost: z.number().int() }).optional(),
  /** The adaptive attacker's settings (adaptive.ts); absent: a plain attacker. */
  adaptive: Adaptive.optional(),
  /** What the run saw of a detector (refusals, accounts, OARS's metrics); absent: plain and never refused. */
  detection: AdaptiveOutcome.optional(),
});
export type AttackRun = z.infer<typeof AttackRun>;

/** One line of an `rs-arena attack` results file: one attack on one image against one endpoint. */
export const AttackRecord = AttackRun.extend({
  image: z.string(),
  endpoint: z.string(),
  deployment: z.string(),
  /** Ground truth when the input set has labels; null otherwise. */
  trueLabel: z.number().int().nullable(),
  /** The label the attack moves away from: the true label, or the endpoint's answer on x0. */
  originalLabel: z.number().int(),
  adversarialLabel: z.number().int().nullable(),
  /** The protocol the endpoint was attacked over (protocols/index.ts); absent in older records: v1 or v2. */
  protocol: z.string().optional(),
  /** How inputs travelled (encoding.ts: float32, json, png, jpeg:Q); absent: float32. */
  encoding: z.string().optional(),
  /** How the endpoint's answers became labels: its own top-1 label, or the argmax of its class scores taken on the client (v2 models). */
  labelSource: z.string().optional(),
  /** CPU time the client itself spent (process-wide: with concurrency > 1 it includes other attacks). */
  clientCpuMs: z.number(),
  /** What the endpoint said about its randomness: a disclosed noise defense, a disclosed deterministic one, or nothing. */
  endpointRandomness: z.enum(['disclosed-random', 'disclosed-deterministic', 'undisclosed']).optional(),
  /** The adversarial asked again after the attack (fresh answers): how many were wrong. Null: not asked. */
  confirmation: z.object({ answers: z.number().int(), adversarial: z.number().int(), distinctLabels: z.number().int() }).nullable().optional(),
  /** The adversarial as a .npy file (float32, its [C, H, W] shape in the header; older records: raw .f32), and a PNG preview (paths relative to the results file). */
  adversarialFile: z.string().nullable(),
  previewFile: z.string().nullable(),
  finishedAt: z.string(),
});
export type AttackRecord = z.infer<typeof AttackRecord>;

/** Keys built from several fields: objects with sorted keys, so equal options give equal keys. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
