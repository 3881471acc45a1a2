// A preset as stored: name, description, and one config per experiment, keyed by experiment name
// (each validated by its experiment's config schema, by the runner or by the report's section).
import { z } from 'zod';
import { formatZodError } from '@rs-arena/shared/zod-error';

export const PresetHeader = z.looseObject({ name: z.string().min(1), description: z.string() });

/** Results folders written before presets were keyed by experiment name used these keys. */
const RENAMED: Record<string, string> = { binarySearch: 'binary-search' };

export function normalizePreset(raw: unknown): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [RENAMED[k] ?? k, v]));
}

/** A zod error in the one format (shared/src/zod-error.ts), its first issues, unknown fields with a "did you mean". */
export function firstIssue(error: z.ZodError, prefix = '', schema?: z.ZodType): string {
  return formatZodError(error, { prefix, schema, max: 3 });
}
