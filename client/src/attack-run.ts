// One attack on one image against one oracle: the single place an attack run happens, whoever asks
// for it (an `rs-arena attack` campaign, the distortion experiment, the geometry experiments' base
// adversarials). It wraps the oracle in the CountingOracle that books every query, runs the attack
// from the registry, and turns the result into the fields every attack record shares (AttackRun).
import { ATTACKS, type AttackName, resolveOptions } from './attacks/index.js';
import type { AttackOptions } from './attacks/attack.js';
import { type Adaptive, adaptiveCounting, adaptiveOutcome, isPlain } from './adaptive.js';
import { BudgetRefused, type CountingOracle, type Oracle, QueryRefused } from './oracle.js';
import { attackCodeVersion } from './provenance.js';
import type { AttackRun } from './record.js';

export interface AttackRunSpec {
  /** What the attack queries: the endpoint itself or a confidence-level oracle over it. */
  oracle: Oracle;
  attack: AttackName;
  /** The attack's options as given (defaults are filled in here). */
  options?: Record<string, unknown>;
  x0: Float32Array;
  /** Ground truth; null: the label to move away from is the oracle's answer on x0 (one counted query). */
  label: number | null;
  budget: number;
  /** The attack's own seed for this image. */
  seed: number;
  /** Queries one point costs (ℓ for the repeated-query oracle); default 1. */
  cost?: number;
  /** What the attacker does about a stateful detector (adaptive.ts): blinding, rejection-aware resampling, many keys. */
  adaptive?: Adaptive;
  /**
   * The endpoint through each of the attacker's keys, with `adaptive.accounts` (`oracle` is then
   * the first, which asks the label when none is given). Keys are the oracles' own: never recorded.
   */
  pool?: readonly Oracle[];
  onProgress?: AttackOptions['onProgress'];
}

export interface AttackRunResult {
  /** The shared record fields, under the key the caller gives. */
  run: Omit<AttackRun, 'key'>;
  originalLabel: number;
  adversarialLabel: number | null;
  adversarial: Float32Array | null;
  /** CPU time of this process during the run (includes other runs in flight). */
  clientCpuMs: number;
}

export async function runAttack(spec: AttackRunSpec): Promise<AttackRunResult> {
  const cpu0 = process.cpuUsage();
  const attackOptions = resolveOptions(spec.attack, spec.options ?? {});
  // On a grid endpoint (PNG, JPEG) the original is the image the endpoint sees, and distances are from it.
  const x0 = spec.oracle.onGrid ? await spec.oracle.onGrid(spec.x0) : spec.x0;
  let counting: CountingOracle;
  if (spec.label === null) {
    let label = -1;
    try {
      if (spec.budget > 0) label = (await spec.oracle.predict(x0.slice(), 1))[0];
    } catch (err) {
      // The server refused even the label query: the image was not attacked (cut short, not done).
      if (err instanceof BudgetRefused) return refusedBeforeStart(spec, attackOptions, cpu0);
      // A detector refused it (charged): nothing to attack from.
      if (err instanceof QueryRefused) return refusedBeforeStart(spec, attackOptions, cpu0, err);
      throw err;
    }
    const spent = spec.budget > 0 ? 1 : 0;
    counting = adaptiveCounting(spec.pool ?? spec.oracle, spec.adaptive, {
      originalLabel: label,
      budget: spec.budget,
      spent: { total: spent, bad: 0, perPhase: { init: { queries: spent, bad: 0 } } },
      cost: spec.cost,
      seed: spec.seed,
    });
  } else
    counting = adaptiveCounting(spec.pool ?? spec.oracle, spec.adaptive, { originalLabel: spec.label, budget: spec.budget, cost: spec.cost, seed: spec.seed });
  const r = await ATTACKS[spec.attack].run(counting, x0, { ...attackOptions, seed: spec.seed, onProgress: spec.onProgress });
  const cpu = process.cpuUsage(cpu0);
  const misclassified = r.stopReason === 'misclassified' || counting.originalLabel < 0;
  return {
    run: {
      attack: spec.attack,
      attackOptions,
      budget: spec.budget,
      seed: spec.seed,
      misclassified,
      success: r.success && !misclassified,
      l2: misclassified ? null : r.l2,
      linf: misclassified ? null : r.linf,
      queries: r.queries,
      history: r.history,
      stopReason: r.stopReason,
      wallMs: r.wallMs,
      cleanLabel: spec.label === null ? counting.originalLabel : r.cleanLabel,
      codeVersion: attackCodeVersion(spec.attack),
      resolvedOptions: attackOptions,
      // Only where there is something to say: records of plain attacks on endpoints without a detector stay as they were.
      ...(isPlain(spec.adaptive) ? {} : { adaptive: spec.adaptive }),
      ...(isPlain(spec.adaptive) && !counting.refused ? {} : { detection: adaptiveOutcome(counting) }),
    },
    originalLabel: counting.originalLabel,
    adversarialLabel: misclassified ? null : r.adversarialLabel,
    adversarial: misclassified ? null : r.adversarial,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
  };
}

function refusedBeforeStart(spec: AttackRunSpec, attackOptions: Record<string, unknown>, cpu0: NodeJS.CpuUsage, detected?: QueryRefused): AttackRunResult {
  const cpu = process.cpuUsage(cpu0);
  // A detector's refusal of the label query was charged: one query, refused.
  const n = detected ? detected.charged : 0;
  return {
    run: {
      attack: spec.attack,
      attackOptions,
      budget: spec.budget,
      seed: spec.seed,
      misclassified: false,
      success: false,
      l2: null,
      linf: null,
      queries: detected
        ? { total: n, bad: 0, perPhase: { init: { queries: n, bad: 0, refused: n } }, refused: n, firstRefusedAt: n }
        : { total: 0, bad: 0, perPhase: {} },
      history: [],
      stopReason: detected ? (detected.suspended ? 'suspended' : 'refused') : 'budget-refused',
      wallMs: 0,
      cleanLabel: null,
    },
    originalLabel: -1,
    adversarialLabel: null,
    adversarial: null,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
  };
}
