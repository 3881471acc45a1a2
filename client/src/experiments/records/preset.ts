// A preset as stored: name, description, and one config per experiment, keyed by experiment name
// (each validated by its experiment's config schema, by the runner or by the report's section).
import { z } from 'zod';

export const PresetHeader = z.looseObject({ name: z.string().min(1), description: z.string() });

/** Results folders written before presets were keyed by experiment name used these keys. */
const RENAMED: Record<string, string> = { binarySearch: 'binary-search' };

export function normalizePreset(raw: unknown): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [RENAMED[k] ?? k, v]));
}

/** The first issue of a zod error as "field.path: message". */
export function firstIssue(error: z.ZodError, prefix = ''): string {
  const issue = error.issues[0];
  const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
  return `${path || '(top level)'}: ${issue.message}`;
}
