// A results folder whose truth is known, for the report engine's tests: the records of one
// experiment as JSONL and the preset that made them, then the report built from it.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport } from '../../client/src/report/report.js';

/** Writes `records` to `file` and a preset with `config` under `experiment`, builds the report; its folder and HTML. */
export async function reportFromFixture(experiment: string, config: unknown, file: string, records: unknown[]): Promise<{ dir: string; html: string }> {
  const dir = mkdtempSync(join(tmpdir(), `rs-arena-${experiment}-`));
  writeFileSync(join(dir, file), `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  writeFileSync(
    join(dir, 'preset.json'),
    JSON.stringify({
      preset: { name: 'fixture', description: 'known truth', [experiment]: config },
      command: 'rs-arena experiment --config fixture.json',
      startedAt: '2026-12-01T00:00:00Z',
    }),
  );
  return { dir, html: readFileSync(await buildReport(dir), 'utf8') };
}

/** A CSV the report wrote, as rows of numbers by column name. */
export function csvRows(path: string): Record<string, number>[] {
  const [header, ...lines] = readFileSync(path, 'utf8').trim().split('\n');
  const cols = header.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], Number(v)])));
}
