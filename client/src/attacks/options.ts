// `--option K=V` for the chosen attacks, coerced and checked through each attack's zod options
// schema, and the option table of `rs-arena attack --help`, read from the same schemas.
import { z } from 'zod';
import { didYouMean } from '@rs-arena/shared/suggest';
import type { Attack } from './attack.js';
import { ATTACKS, type AttackName } from './index.js';

/** A bad --option: the CLI prints it as a usage error (exit 2). */
export class OptionError extends Error {}

interface FieldSchema {
  type?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  default?: unknown;
  description?: string;
}

/** The JSON Schema view of an attack's options: type, range, default and doc of each field. */
function optionFields(attack: AttackName): Record<string, FieldSchema> {
  const json = z.toJSONSchema(ATTACKS[attack].options, { io: 'input' }) as { properties?: Record<string, FieldSchema> };
  return json.properties ?? {};
}

/** "l2 | linf", "number > 0", "integer in [0, 5]"… */
function allowedValues(f: FieldSchema): string {
  if (f.enum) return f.enum.join(' | ');
  const type = f.type === 'integer' ? 'integer' : f.type === 'number' ? 'number' : (f.type ?? 'value');
  // zod gives every integer the safe-integer range: not worth printing.
  const bound = (x: number | undefined) => (x === undefined || Math.abs(x) >= Number.MAX_SAFE_INTEGER ? undefined : x);
  const [min, max] = [bound(f.minimum), bound(f.maximum)];
  const lo = f.exclusiveMinimum !== undefined ? `> ${f.exclusiveMinimum}` : min !== undefined ? `≥ ${min}` : null;
  const hi = f.exclusiveMaximum !== undefined ? `< ${f.exclusiveMaximum}` : max !== undefined ? `≤ ${max}` : null;
  return [type, lo, hi]
    .filter(Boolean)
    .join(' ')
    .replace(/ (≥|>) (\S+) (≤|<) /, ' $1 $2, $3 ');
}

/** "one of l2, linf", "a number > 0", "an integer ≥ 0": what an error message says is allowed. */
function mustBe(f: FieldSchema): string {
  if (f.enum) return `one of ${f.enum.join(', ')}`;
  const v = allowedValues(f);
  return /^[aeiou]/.test(v) ? `an ${v}` : `a ${v}`;
}

/**
 * The --option pairs, split per chosen attack: a name no chosen attack knows, a value that is not
 * a number where a number is due, or a value out of an attack's range is an OptionError naming
 * the attack, the option and what is allowed. Returns only the options given (not the defaults).
 */
export function parseOptions(pairs: string[], attacks: AttackName[]): Record<AttackName, Record<string, unknown>> {
  const given = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new OptionError(`--option expects KEY=VALUE, got "${pair}"`);
    given.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const fields = Object.fromEntries(attacks.map((a) => [a, optionFields(a)])) as Record<AttackName, Record<string, FieldSchema>>;
  for (const k of given.keys()) {
    if (!attacks.some((a) => Object.hasOwn(fields[a], k))) {
      const known = [...new Set(attacks.flatMap((a) => Object.keys(fields[a])))];
      throw new OptionError(`--option ${k}: not an option of ${attacks.join('/')}${didYouMean(k, known)}; known: ${known.join(', ')}`);
    }
  }
  const out = {} as Record<AttackName, Record<string, unknown>>;
  for (const a of attacks) {
    const mine: Record<string, unknown> = {};
    for (const [k, raw] of given) {
      const f = fields[a][k];
      if (!f) continue;
      if (f.type === 'number' || f.type === 'integer') {
        const v = raw.trim() === '' ? NaN : Number(raw);
        if (!Number.isFinite(v)) throw new OptionError(`--option ${k}=${raw}: ${a}'s ${k} must be ${mustBe(f)}`);
        mine[k] = v;
      } else if (f.type === 'boolean') {
        if (raw !== 'true' && raw !== 'false') throw new OptionError(`--option ${k}=${raw}: ${a}'s ${k} must be true or false`);
        mine[k] = raw === 'true';
      } else mine[k] = raw;
    }
    const checked = ATTACKS[a].options.safeParse(mine);
    if (!checked.success) {
      const k = String(checked.error.issues[0].path[0] ?? '');
      throw new OptionError(`--option ${k}=${given.get(k)}: ${a}'s ${k} must be ${fields[a][k] ? mustBe(fields[a][k]) : 'valid'}`);
    }
    out[a] = mine;
  }
  return out;
}

/** The options table of every attack, for --help; [l2] or [linf]: the distance it minimises with its defaults. */
export function optionsHelp(): string {
  const names = Object.keys(ATTACKS) as AttackName[];
  const fields = names.map((a) => Object.entries(optionFields(a)));
  // Columns as wide as their widest entry over the registry, so a new attack cannot break the table.
  const width = (cells: string[], min: number) => Math.max(min, ...cells.map((c) => c.length));
  const all = fields.flat();
  const [nameW, keyW, typeW, defW] = [
    width(names, 7) + 2,
    width(
      all.map(([k]) => k),
      18,
    ),
    width(
      all.map(([, f]) => allowedValues(f)),
      19,
    ),
    width(
      all.map(([, f]) => (f.default === undefined ? 'unset' : String(f.default))),
      10,
    ),
  ];
  const lines: string[] = [];
  names.forEach((a, i) => {
    const attack = ATTACKS[a] as Attack;
    lines.push(`  ${a.padEnd(nameW)}${attack.summary} [${attack.metric(attack.options.parse({}))}]`);
    for (const [k, f] of fields[i]) {
      const def = f.default === undefined ? 'unset' : String(f.default);
      lines.push(`    ${k.padEnd(keyW)} ${allowedValues(f).padEnd(typeW)} default ${def.padEnd(defW)} ${f.description ?? ''}`);
    }
  });
  return lines.join('\n') + '\n';
}
