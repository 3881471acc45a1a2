// One attack on one image against one oracle: the single place an attack run happens, whoever asks
// for it (an `rs-arena attack` campaign, the distortion experiment, the geometry experiments' base
// adversarials). It wraps the oracle in the CountingOracle that books every query, runs the attack
// from the registry, and turns the result into the fields every attack record shares (AttackRun).
import { ATTACKS, type AttackName, resolveOptions } from './attacks/index.js';
import type { AttackOptions } from './attacks/attack.js';
import { BudgetRefused, CountingOracle, type Oracle } from './oracle.js';
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
      throw err;
    }
    const spent = spec.budget > 0 ? 1 : 0;
    counting = new CountingOracle(spec.oracle, label, spec.budget, { total: spent, bad: 0, perPhase: { init: { queries: spent, bad: 0 } } }, spec.cost);
  } else counting = new CountingOracle(spec.oracle, spec.label, spec.budget, undefined, spec.cost);
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
    },
    originalLabel: counting.originalLabel,
    adversarialLabel: misclassified ? null : r.adversarialLabel,
    adversarial: misclassified ? null : r.adversarial,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
  };
}

function refusedBeforeStart(spec: AttackRunSpec, attackOptions: Record<string, unknown>, cpu0: NodeJS.CpuUsage): AttackRunResult {
  const cpu = process.cpuUsage(cpu0);
  return {
    run: {
      attack: spec.attack, attackOptions, budget: spec.budget, seed: spec.seed, misclassified: false, success: false, l2: null, linf: null,
      queries: { total: 0, bad: 0, perPhase: {} }, history: [], stopReason: 'budget-refused', wallMs: 0, cleanLabel: null,
    },
    originalLabel: -1,
    adversarialLabel: null,
    adversarial: null,
    clientCpuMs: (cpu.user + cpu.system) / 1000,
  };
}
