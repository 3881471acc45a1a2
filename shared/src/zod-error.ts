// The one format of a validation error, for every config file, manifest, model config, preset, admin
// body and server answer, on the server and in the client: "field.path: message", an unknown field
// named with a "did you mean" when a known field is close. The known fields come from the schema
// itself (walked along the issue's path), so no list is written twice.
import type { z } from 'zod';
import { didYouMean } from './suggest.js';

export interface FormatOptions {
  /** The schema that failed: lets an unknown field be matched against the known ones. */
  schema?: z.ZodType;
  /** Prepended to every path (e.g. an experiment's name in a preset). */
  prefix?: string;
  /** Most issues listed (default 5). */
  max?: number;
}

/** Each issue as "path: message" (path "(top level)" for the root). */
function zodIssues(error: z.ZodError, options: FormatOptions = {}): string[] {
  const lines: string[] = [];
  for (const issue of error.issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const known = options.schema ? objectKeys(options.schema, issue.path) : [];
      for (const key of issue.keys) {
        lines.push(`${joinPath(options.prefix, [...path, key])}: unknown field${didYouMean(key, known)}`);
      }
    } else {
      lines.push(`${joinPath(options.prefix, path)}: ${issue.message}`);
    }
  }
  const max = options.max ?? 5;
  return lines.length > max ? [...lines.slice(0, max), `(and ${lines.length - max} more)`] : lines;
}

/** All issues on one line, separated by "; ". */
export function formatZodError(error: z.ZodError, options: FormatOptions = {}): string {
  return zodIssues(error, options).join('; ');
}

/** A parse that fails with an Error "<what>: <issues>" in the one format. */
export function parseOrThrow<S extends z.ZodType>(schema: S, data: unknown, what: string, prefix?: string): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw new ValidationError(`${what}: ${formatZodError(result.error, { schema, prefix })}`);
}

class ValidationError extends Error {}

const joinPath = (prefix: string | undefined, path: string[]) => [prefix, ...path].filter((p) => p !== undefined && p !== '').join('.') || '(top level)';

/** Internal zod 4 definition, read only to list an object's fields. */
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: z.ZodType[];
  items?: z.ZodType[];
  getter?: () => z.ZodType;
}
const def = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The field names of the object schemas at `path` inside `schema` (through wrappers, arrays, records, unions). */
function objectKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const keys = new Set<string>();
  const visit = (s: z.ZodType | undefined, i: number, depth: number) => {
    if (!s || depth > 64) return;
    const d = def(s);
    switch (d.type) {
      case 'object':
        if (i === path.length) for (const k of Object.keys(d.shape ?? {})) keys.add(k);
        else visit(d.shape?.[String(path[i])], i + 1, depth + 1);
        return;
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'nonoptional':
      case 'readonly':
      case 'catch':
        return visit(d.innerType, i, depth + 1);
      case 'pipe':
        visit(d.in, i, depth + 1);
        return visit(d.out, i, depth + 1);
      case 'lazy':
        return visit(d.getter?.(), i, depth + 1);
      case 'union':
        for (const o of d.options ?? []) visit(o, i, depth + 1);
        return;
      case 'array':
        if (i < path.length) visit(d.element, i + 1, depth + 1);
        return;
      case 'tuple':
        if (i < path.length) visit(d.items?.[Number(path[i])], i + 1, depth + 1);
        return;
      case 'record':
        if (i < path.length) visit(d.valueType, i + 1, depth + 1);
        return;
    }
  };
  visit(schema, 0, 0);
  return [...keys];
}
