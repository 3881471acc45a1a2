// The rs-arena command as a user runs it (client/bin/rs-arena.mjs in its own process), and the
// attack records it writes, validated with their schema.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { AttackRecord } from '../../client/src/record.js';

export function rsArena(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['client/bin/rs-arena.mjs', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

/** The records of a results file. */
export const records = (file: string): AttackRecord[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => AttackRecord.parse(JSON.parse(l)));

/** Queries the records say they spent: each attack's, plus the fresh answers asked on its adversarial after it. */
export const spent = (rs: AttackRecord[]): number => rs.reduce((s, r) => s + r.queries.total + (r.confirmation?.answers ?? 0), 0);
