// A deployment's defense as a chain: screens (detectors) in front of one defense that answers, in
// front of the model, e.g. `[{"name": "blacklight"}, "gaussian"]`. Built from the spec at creation:
// every stage's settings are validated by its own schema (a 400 names `defense[i].field`), and a
// chain that cannot work (a screen after the answering defense, two answering defenses) is refused.
// Specs written before chains keep their meaning: no `defense` (σ > 0: gaussian, σ = 0: none) or
// one name, its settings from the spec's top-level fields.
import type { z } from 'zod';
import type { DeploymentSpec, DefenseStage } from '@rs-arena/shared/api';
import { formatZodError } from '@rs-arena/shared/zod-error';
import { DefenseSpecError, type AnswerDefinition, type Defense, type DefenseContext, type DefenseDefinition, type Screen } from './defense.js';
import { defenseDefinition, defenseNames } from './defenses/index.js';

/** One stage, resolved: its definition and validated settings. */
export interface Stage {
  definition: DefenseDefinition;
  settings: Record<string, unknown>;
}

/** The stage list of a spec, validated, without creating anything (throws DefenseSpecError naming the field). */
export function resolveChain(spec: DeploymentSpec): Stage[] {
  const legacy = () => (spec.sigma > 0 ? 'gaussian' : 'none');
  const raw: { stage: DefenseStage; field: string }[] =
    spec.defense === undefined
      ? [{ stage: legacy(), field: 'defense' }]
      : typeof spec.defense === 'string'
        ? [{ stage: spec.defense, field: 'defense' }]
        : spec.defense.map((stage, i) => ({ stage, field: `defense[${i}]` }));
  const stages = raw.map(({ stage, field }) => resolveStage(stage, field, spec));
  const answerAt = stages.findIndex((s) => s.definition.kind === 'answer');
  if (answerAt < 0) {
    // Only screens: they stand in front of what the top-level σ says.
    stages.push(resolveStage(legacy(), 'sigma', spec));
  } else {
    const second = stages.findIndex((s, i) => i > answerAt && s.definition.kind === 'answer');
    if (second >= 0)
      throw new DefenseSpecError(
        `defense[${second}]: "${stages[second].definition.name}" answers queries, as "${stages[answerAt].definition.name}" (defense[${answerAt}]) does; a chain has one defense that answers, last`,
      );
    const late = stages.findIndex((s, i) => i > answerAt && s.definition.kind === 'screen');
    if (late >= 0) {
      throw new DefenseSpecError(
        `defense[${late}]: "${stages[late].definition.name}" screens queries and must come before "${stages[answerAt].definition.name}" (defense[${answerAt}]), which answers them`,
      );
    }
  }
  return stages;
}

function resolveStage(stage: DefenseStage, field: string, spec: DeploymentSpec): Stage {
  const name = typeof stage === 'string' ? stage : stage.name;
  const definition = defenseDefinition(name);
  if (!definition) throw new DefenseSpecError(`${field}: unknown defense "${name}" (known: ${defenseNames().join(', ')})`);
  let raw: unknown;
  let nested: boolean; // settings inside the stage object (defense[i].x), or the spec's own fields
  if (typeof stage === 'string') {
    raw = definition.fromSpec ? definition.fromSpec(spec) : {};
    nested = false; // the fields are the spec's own
  } else {
    const { name: _, ...rest } = stage;
    raw = rest;
    nested = true;
  }
  const parsed = (definition.settings as z.ZodType).safeParse(raw);
  if (!parsed.success) {
    const issues = formatZodError(parsed.error, { schema: definition.settings as z.ZodType, prefix: nested ? field : undefined, max: 3 });
    throw new DefenseSpecError(`invalid settings of defense "${name}": ${issues}`);
  }
  return { definition, settings: parsed.data as Record<string, unknown> };
}

/** Builds the deployment's defense: its stages created in order, the screens wrapped around the answer. */
export async function createChain(stages: Stage[], ctx: DefenseContext): Promise<Defense> {
  const screens: Screen[] = [];
  let answer: Defense | undefined;
  for (const { definition, settings } of stages) {
    if (definition.kind === 'screen') screens.push(await definition.create(settings, ctx));
    else answer = await (definition as AnswerDefinition).create(settings, ctx);
  }
  return screens.length === 0 ? answer! : screened(screens, answer!, ctx.model.inputSize);
}

/** The answering defense with screens in front of its predict (the black box); votes and CERTIFY (evaluator routes) go straight through. */
function screened(screens: Screen[], answer: Defense, size: number): Defense {
  const detections = screens.find((s) => s.detections)?.detections;
  return {
    ...answer,
    name: [...screens.map((s) => s.name), answer.name].join(' > '),
    ...(detections ? { detections } : {}),
    predict: {
      cost: answer.predict.cost,
      async run(xs, count, params, call = {}) {
        const answered = new Map<number, number>();
        for (const s of screens) for (const [i, label] of (await s.screen(xs, count, call)) ?? []) answered.set(i, label);
        if (answered.size === 0) return answer.predict.run(xs, count, params, call);
        const rest = Array.from({ length: count }, (_, i) => i).filter((i) => !answered.has(i));
        const labels = new Int32Array(count);
        for (const [i, label] of answered) labels[i] = label;
        if (rest.length > 0) {
          const sub = new Float32Array(rest.length * size);
          rest.forEach((i, j) => sub.set(xs.subarray(i * size, (i + 1) * size), j * size));
          const out = await answer.predict.run(sub, rest.length, params, call);
          rest.forEach((i, j) => (labels[i] = out[j]));
        }
        return labels;
      },
    },
    async removed() {
      for (const s of screens) await s.removed?.();
      await answer.removed?.();
    },
  };
}
