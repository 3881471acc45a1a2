// Provenance in the report: each attack record's code version (record.ts, provenance.ts) against
// the current code. A record made by other code, or of unknown version (written before versions
// were recorded), is stale: the report marks it and says how many there are, and a rerun of the
// experiment replaces it. A cell (one setting, level, oracle, attack, options and budget) whose
// records come from more than one version is refused unless the caller allows it: its statistics
// would mix two attacks under one name.
import { attackCodeVersion } from '../provenance.js';
import { canonical } from '../record.js';

export interface Versioned {
  attack: string;
  codeVersion?: string;
  attackOptions: Record<string, unknown>;
  model: string;
  sigma: number;
  n: number;
  Pa: number | null;
  oracle: string;
  repeats: number;
  budget: number;
}

export class MixedVersionsError extends Error {}

export const isStale = (r: Pick<Versioned, 'attack' | 'codeVersion'>) => r.codeVersion !== attackCodeVersion(r.attack);

const UNKNOWN = 'unknown (not recorded)';
const cellOf = (r: Versioned) =>
  `${r.model} σ=${r.sigma} n=${r.n} Pa=${r.Pa ?? '–'} ${r.oracle} ℓ=${r.repeats} ${r.attack} ${canonical(r.attackOptions)} budget ${r.budget}`;

/** Stale records of `records`, and a MixedVersionsError (unless allowed) for a cell of several versions. */
export function checkVersions(what: string, records: Versioned[], allowMixed: boolean): { total: number; stale: number } {
  const cells = new Map<string, Set<string>>();
  for (const r of records) {
    const k = cellOf(r);
    if (!cells.has(k)) cells.set(k, new Set());
    cells.get(k)!.add(r.codeVersion ?? UNKNOWN);
  }
  const mixed = [...cells].filter(([, v]) => v.size > 1);
  if (mixed.length && !allowMixed) {
    throw new MixedVersionsError(
      `${what}: ${mixed.length} cell${mixed.length > 1 ? 's mix' : ' mixes'} records of different attack code versions, e.g. ${mixed
        .slice(0, 3)
        .map(([k, v]) => `${k}: ${[...v].join(', ')}`)
        .join('; ')}. Rerun the experiment (stale records are replaced) or pass --allow-mixed-versions.`,
    );
  }
  return { total: records.length, stale: records.filter(isStale).length };
}
