// A plain attack made noise-aware by deciding through the sequential test (oracle-sequential.ts):
// it runs unchanged on a SequentialView of the attacker's oracle, so every point it keeps was
// accepted as adversarial at level P_a, and every repeat the test asked is a counted, budgeted
// top-1 query of the attacker's own CountingOracle.
//
// Why a final confirmation: each acceptance errs with probability ≤ α, but an attack accepts
// hundreds of points near the boundary and keeps the *closest*, which is the one most likely to be
// a false acceptance (a winner's curse: measured, 3 of 5 SurFree points were at level without it).
// So a share of the budget is set aside, and at the end the closest accepted points are tested
// again on fresh answers (candidates a few percent apart in distance, closest first); the first
// one the fresh test accepts is returned. That test's answers are independent of the selection,
// but up to k candidates are tested and the first accepted wins: each at level α would bound the
// returned point's error by kα only (a union bound; 8 × 0.05 = 0.4), so each candidate is tested at
// α/k, k being the number of candidates, fixed before any fresh answer: the returned point is
// adversarial at level P_a with error ≤ α. If none is confirmed, the attack reports no adversarial.
import { z } from 'zod';
import type { CountingOracle } from '../oracle.js';
import { BudgetExhausted, QueryRefused } from '../oracle.js';
import { type RawAsk, SequentialOracle, type SequentialTestOptions, SequentialView, sequentialTestSchema } from '../oracle-sequential.js';
import { dist2, distInf } from '../vec.js';
import { type Attack, type AttackResult, type OptionsSchema, defineAttack } from './attack.js';

/** The sequential test's options and the final confirmation's, each with its default. */
const SequentialOptions = sequentialTestSchema.extend({
  confirmReserve: z
    .number()
    .int()
    .nonnegative()
    .default(300)
    .describe('queries set aside for the final confirmation: at most this, and at most a tenth of the budget'),
  confirmCandidates: z
    .number()
    .int()
    .positive()
    .default(8)
    .describe(
      'how many of the closest accepted points the confirmation may try (each tested at alpha / their number: the returned point errs with probability ≤ alpha)',
    ),
  searchAlpha: z
    .number()
    .gt(0)
    .lt(0.5)
    .optional()
    .describe("alpha of the search's own decisions (default: alpha); only the confirmation must hold alpha, so a looser search test buys more steps"),
  searchBeta: z.number().gt(0).lt(0.5).optional().describe("beta of the search's decisions (default: beta)"),
});
type SequentialOptions = z.output<typeof SequentialOptions>;
const testKeys = Object.keys(sequentialTestSchema.shape);

/** Splits parsed options into the sequential test's and the others. */
function splitTestOptions<O extends object>(
  options: O,
): { test: z.input<typeof sequentialTestSchema>; rest: Omit<O, keyof typeof sequentialTestSchema.shape> } {
  const test: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) (testKeys.includes(k) ? test : rest)[k] = v;
  return { test, rest: rest as Omit<O, keyof typeof sequentialTestSchema.shape> };
}

/**
 * `schema` with some defaults replaced (a noise-aware variant's own defaults), each option keeping
 * its type, range and doc.
 */
function withDefaults<S extends OptionsSchema>(schema: S, defaults: Partial<z.output<S>>): S {
  const shape: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(defaults)) {
    const field = schema.shape[k] as z.ZodType;
    const inner = field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : field;
    shape[k] = inner.default(v as never).describe(field.description ?? k);
  }
  return schema.extend(shape) as unknown as S;
}

/**
 * The `k` closest accepted points, at least `spacing` apart in distance to x0 (copies): the closest
 * accepted points all sit at the boundary of the level, where a fresh test often rejects them, so
 * the candidates are spread outward to give the confirmation a point that is safely inside.
 */
class Candidates {
  readonly points: { x: Float32Array; d: number }[] = [];
  constructor(
    readonly x0: Float32Array,
    readonly k: number,
    readonly spacing = 1.03,
  ) {}
  offer(x: Float32Array): void {
    const d = dist2(x, this.x0);
    const near = this.points.findIndex((p) => Math.max(p.d, d) / Math.min(p.d, d) < this.spacing);
    if (near >= 0) {
      if (this.points[near].d <= d) return;
      this.points.splice(near, 1);
    }
    if (this.points.length >= this.k && d >= this.points[this.points.length - 1].d) return;
    this.points.push({ x: x.slice(), d });
    this.points.sort((a, b) => a.d - b.d);
    this.points.length = Math.min(this.points.length, this.k);
  }
}

/**
 * The final confirmation: `candidates` (closest first) tested on fresh answers from `ask`, each at
 * α/k for k candidates, so that the first one accepted, the one returned, is adversarial at level
 * P_a with error ≤ α overall (union bound over the k tests). An exhausted budget ends it: null.
 */
export async function confirmFirst(
  candidates: Float32Array[],
  ask: RawAsk,
  shape: Pick<CountingOracle, 'inputShape' | 'range'>,
  originalLabel: number,
  test: SequentialTestOptions,
): Promise<{ x: Float32Array; label: number } | null> {
  if (candidates.length === 0) return null;
  const alpha = (test.alpha ?? sequentialTestSchema.shape.alpha.parse(undefined)) / candidates.length;
  const fresh = new SequentialOracle(shape, originalLabel, { ...test, alpha }, ask);
  try {
    for (const x of candidates) {
      const [label] = await fresh.predict(x, 1);
      if (label !== originalLabel) return { x, label };
    }
  } catch (err) {
    // Out of budget, or refused by a detector (charged, counted): the candidates left are unconfirmed.
    if (!(err instanceof BudgetExhausted) && !(err instanceof QueryRefused)) throw err;
  }
  return null;
}

/**
 * The registry attack `name`: `plain`, deciding through the sequential test and confirming its
 * result. Its options are the plain attack's (with `defaults` as this variant's defaults) and the
 * test's; the plain attack receives the options its own schema knows.
 */
export function decidedByTest<S extends OptionsSchema>(name: string, summary: string, plain: Attack<S>, defaults: Partial<z.output<S>> = {}) {
  const options = withDefaults(plain.options, defaults).extend(SequentialOptions.shape);
  const plainKeys = new Set(Object.keys(plain.options.shape));
  return defineAttack({
    name,
    summary,
    metric: (o) => plain.metric(o as never),
    options,
    async run(oracle: CountingOracle, x0: Float32Array, o, common): Promise<AttackResult> {
      const all = o as Record<string, unknown>;
      const { confirmReserve, confirmCandidates, searchAlpha, searchBeta } = o as unknown as SequentialOptions;
      const { test } = splitTestOptions(all);
      const inner = Object.fromEntries(Object.entries(all).filter(([k]) => plainKeys.has(k)));
      const view = new SequentialView(oracle, { ...test, alpha: searchAlpha ?? test.alpha, beta: searchBeta ?? test.beta });
      view.reserve = Math.min(confirmReserve, Math.floor(oracle.remaining / 10));
      const closest = new Candidates(x0, confirmCandidates);
      view.onAccept = (x) => closest.offer(x);
      const r = await plain.run(view, x0, { ...inner, ...common } as never);
      if (r.stopReason === 'misclassified' || closest.points.length === 0) return { ...r, attack: name };
      // Confirmation on fresh answers, closest first, with the reserve released.
      view.reserve = 0;
      view.phase('confirm');
      const confirmed = await confirmFirst(
        closest.points.map((p) => p.x),
        (b, k) => view.raw(b, k),
        view,
        oracle.originalLabel,
        test,
      );
      const l2 = confirmed ? dist2(confirmed.x, x0) : null;
      // History: the accepted bests while they were no closer than the confirmed point, then it.
      const history = l2 === null ? [] : [...r.history.filter(([, v]) => v >= l2), [oracle.queries, l2] as [number, number]];
      return {
        ...r,
        attack: name,
        success: confirmed !== null,
        adversarial: confirmed?.x ?? null,
        adversarialLabel: confirmed?.label ?? null,
        l2,
        linf: confirmed ? distInf(confirmed.x, x0) : null,
        queries: oracle.counts(),
        history,
      };
    },
  });
}
