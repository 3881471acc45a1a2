// `rs-arena audit`: how many queries does the best attacker need to reach an adversarial example
// at my distortion bound, and what per-key budget keeps that below a success rate I accept? One
// folder per audit:
//   probe.json    the endpoint's clean answers and the randomness probe (keyed: reused by a rerun
//                 of the same audit, redone otherwise)
//   attacks.jsonl one record per image and attacker (the campaign's records and resume keys)
//   adversarials/ what each attacker found (float32 + PNG)
//   audit.json    the summary (also printed with --json), report.html the report card
// The images the endpoint answers wrongly are not attacked (they count against clean accuracy).
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clopperPearsonInterval } from '@rs-arena/shared/stats';
import type { AttackName } from '../attacks/index.js';
import { type CampaignEvent, type CampaignSpec, runCampaign } from '../campaign.js';
import { encodingLabel } from '../encoding.js';
import type { InputImage } from '../inputs.js';
import { type RandomnessResult, probeRandomness } from '../randomness.js';
import { canonical } from '../record.js';
import type { AttackRecord } from '../record.js';
import type { Target } from '../target.js';
import { type EpsilonSummary, type ImageVerdict, imageVerdicts, summarizeEpsilon } from './analysis.js';
import { batteryFor } from './battery.js';
import { auditHtml } from './report.js';

export interface AuditSpec {
  target: Target;
  endpoint: string;
  deployment: string;
  epsilons: number[];
  budget: number;
  images: InputImage[];
  /** The success rate the recommended budget keeps under. */
  targetRate: number;
  failAbove: number | null;
  concurrency: number;
  seed: number;
  dir: string;
  command: string;
  /** Progress of each attacker's campaign (stderr). */
  onCampaign?: (attack: AttackName, total: number) => (e: CampaignEvent) => void;
  log?: (line: string) => void;
  /** Runs the battery's campaigns elsewhere (`--queue`: audit/queued.ts) and returns their records as runCampaign would; default: here, one attacker after the other. */
  runAttacks?: (campaigns: CampaignSpec[]) => Promise<AttackRecord[]>;
}

export interface AuditSummary {
  endpoint: string;
  deployment: string;
  protocol: string;
  encoding: string;
  banner: string;
  command: string;
  finishedAt: string;
  budget: number;
  targetRate: number;
  failAbove: number | null;
  /** ε values whose success within the budget exceeds failAbove (empty: the gate passed); null when no gate was asked for. */
  gateFailed: number[] | null;
  seed: number;
  /** Queries sent to the endpoint: clean answers, the probe and every attack. */
  queries: number;
  clean: { images: number; correct: number; accuracy: number | null; interval: [number, number] | null; labelled: boolean };
  randomness: RandomnessResult;
  battery: AttackName[];
  epsilons: Omit<EpsilonSummary, never>[];
  images: ImageVerdict[];
}

interface Probe {
  key: string;
  cleanLabels: number[];
  randomness: RandomnessResult;
  queries: number;
}

export async function runAudit(spec: AuditSpec): Promise<AuditSummary> {
  const { target, dir } = spec;
  const { oracle } = target;
  const log = spec.log ?? (() => {});
  mkdirSync(dir, { recursive: true });
  const encoding = encodingLabel(target.encoding);

  // 1. Clean answers and the randomness probe, once per audit (kept in probe.json).
  const probeKey = canonical({
    endpoint: spec.endpoint,
    deployment: spec.deployment,
    protocol: target.protocol,
    encoding,
    images: spec.images.map((i) => i.id),
  });
  const probeFile = join(dir, 'probe.json');
  let probe: Probe | undefined = existsSync(probeFile) ? (JSON.parse(readFileSync(probeFile, 'utf8')) as Probe) : undefined;
  if (probe?.key !== probeKey) {
    const onGrid = await Promise.all(spec.images.map((img) => (oracle.onGrid ? oracle.onGrid(img.values) : Promise.resolve(img.values.slice()))));
    const size = oracle.inputShape.reduce((a, b) => a * b, 1);
    const batch = new Float32Array(onGrid.length * size);
    onGrid.forEach((x, i) => batch.set(x, i * size));
    const cleanLabels = Array.from(await oracle.predict(batch, onGrid.length));
    log(`clean answers: ${cleanLabels.filter((l, i) => spec.images[i].label === null || l === spec.images[i].label).length} of ${cleanLabels.length} correct`);
    const randomness = await probeRandomness(oracle, onGrid.slice(0, 12));
    log(
      `randomness probe: ${randomness.random ? 'the answers are random' : 'deterministic answers'} (agreement ${randomness.evidence.agreement.map((a) => a.toFixed(2)).join(', ')}; ${randomness.evidence.queries} queries)`,
    );
    probe = { key: probeKey, cleanLabels, randomness, queries: onGrid.length + randomness.evidence.queries };
    // Written whole or not at all: a rerun trusts only a complete probe.
    writeFileSync(probeFile + '.tmp', JSON.stringify(probe, null, 2) + '\n');
    renameSync(probeFile + '.tmp', probeFile);
  } else log('clean answers and randomness probe: reused from probe.json');

  // 2. The battery on the images the endpoint answers correctly.
  const battery = batteryFor(probe.randomness.random);
  const labelled = spec.images.map((img, i) => ({ ...img, label: img.label ?? probe!.cleanLabels[i] }));
  const attacked = labelled.filter((img, i) => probe!.cleanLabels[i] === img.label);
  const campaigns: CampaignSpec[] = battery.map((attack) => ({
    oracle,
    endpoint: spec.endpoint,
    deployment: spec.deployment,
    attack,
    budget: spec.budget,
    seed: spec.seed,
    images: attacked,
    concurrency: spec.concurrency,
    out: join(dir, 'attacks.jsonl'),
    saveDir: join(dir, 'adversarials'),
    labelSource: target.labelSource,
    protocol: target.protocol,
    encoding,
  }));
  const records: AttackRecord[] = [];
  if (spec.runAttacks) records.push(...(await spec.runAttacks(campaigns)));
  else for (const c of campaigns) records.push(...(await runCampaign(c, spec.onCampaign?.(c.attack, attacked.length))));

  // 3. The verdicts.
  const verdicts = imageVerdicts(
    spec.images.map((img, i) => ({ id: img.id, trueLabel: img.label, cleanLabel: probe!.cleanLabels[i] })),
    records,
    spec.epsilons,
  );
  const epsilons = spec.epsilons.map((eps, i) => summarizeEpsilon(verdicts, i, eps, spec.budget, spec.targetRate));
  const correct = verdicts.filter((v) => v.correct).length;
  const n = spec.images.length;
  const gateFailed = spec.failAbove === null ? null : epsilons.filter((e) => e.successRate !== null && e.successRate > spec.failAbove!).map((e) => e.epsilon);
  const summary: AuditSummary = {
    endpoint: spec.endpoint,
    deployment: spec.deployment,
    protocol: target.protocol,
    encoding,
    banner: target.banner,
    command: spec.command,
    finishedAt: new Date().toISOString(),
    budget: spec.budget,
    targetRate: spec.targetRate,
    failAbove: spec.failAbove,
    gateFailed,
    seed: spec.seed,
    queries: probe.queries + records.reduce((s, r) => s + r.queries.total, 0),
    clean: {
      images: n,
      correct,
      accuracy: n ? correct / n : null,
      interval: n ? clopperPearsonInterval(correct, n) : null,
      labelled: spec.images.every((i) => i.label !== null),
    },
    randomness: probe.randomness,
    battery,
    epsilons,
    images: verdicts,
  };
  writeFileSync(join(dir, 'audit.json'), JSON.stringify(summary, null, 2) + '\n');
  writeFileSync(join(dir, 'report.html'), await auditHtml(summary));
  return summary;
}
