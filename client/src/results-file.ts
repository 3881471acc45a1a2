// The results files: appendable JSONL, one record per line. The one reader and writer of every
// results file (`rs-arena attack` campaigns, the experiments, the report): each record read is
// validated with its zod schema, and identified by a resume key the reader recomputes from the
// record's fields, so a changed key definition applies to old files too. What is in a file under a
// key is done: a rerun skips it.
//  - A line that is not JSON is a write torn by an interruption: skipped.
//  - A JSON line that fails the schema is an error naming the file, the line and the field.
//  - Two records under one key: the later wins (in the position of the first).
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { formatZodError } from '@rs-arena/shared/zod-error';

export class ResultsFileError extends Error {
  override name = 'ResultsFileError';
}

export interface RecordSpec<S extends z.ZodType> {
  schema: S;
  /** Everything that changes a result, as one string. */
  key: (record: z.output<S>) => string;
  /** Fills fields that records written by an older version lack (documented where defined). */
  upgrade?: (raw: Record<string, unknown>) => Record<string, unknown>;
}

/** Every valid record of a results file, by key, in file order; [] when the file does not exist. */
export function readRecords<S extends z.ZodType>(path: string, spec: RecordSpec<S>): Map<string, z.output<S>> {
  const out = new Map<string, z.output<S>>();
  if (!existsSync(path)) return out;
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      return; // torn write
    }
    const raw = json && typeof json === 'object' && !Array.isArray(json) && spec.upgrade ? spec.upgrade(json as Record<string, unknown>) : json;
    const parsed = spec.schema.safeParse(raw);
    if (!parsed.success) {
      throw new ResultsFileError(`${path}:${i + 1}: invalid record: ${formatZodError(parsed.error, { schema: spec.schema, max: 1 })}`);
    }
    out.set(spec.key(parsed.data), parsed.data);
  });
  return out;
}

/** A results file open for resuming: what it holds, and appending new records. */
export class ResultsFile<S extends z.ZodType> {
  private readonly records: Map<string, z.output<S>>;

  constructor(
    readonly path: string,
    private readonly spec: RecordSpec<S>,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.records = readRecords(path, spec);
    // A torn last line: the next record starts on a fresh line.
    if (existsSync(path)) {
      const text = readFileSync(path, 'utf8');
      if (text.length && !text.endsWith('\n')) appendFileSync(path, '\n');
    }
  }

  keyOf(record: z.output<S>): string {
    return this.spec.key(record);
  }

  get(key: string): z.output<S> | undefined {
    return this.records.get(key);
  }

  add(record: z.output<S>): void {
    this.records.set(this.spec.key(record), record);
    appendFileSync(this.path, JSON.stringify(record) + '\n');
  }

  all(): z.output<S>[] {
    return [...this.records.values()];
  }
}
