// The rs-arena command as a user runs it (client/bin/rs-arena.mjs in its own process) or, where a
// test is about what the command says rather than about its process, its main() in this process;
// and the attack records it writes, validated with their schema.
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

/**
 * The rs-arena command in this process: main() as client/bin/rs-arena.mjs calls it, its exit code
 * and what it wrote to stdout and stderr. A process costs about a second of startup (tsx and the
 * command's modules) where a usage error or a help text takes milliseconds; the files that use this
 * keep their process runs where the process is the point (its exit, its handling of a failure the
 * command does not catch). Text written while it runs is captured; binary chunks (the test runner's
 * own reports to its parent) pass through. One call at a time: the streams are this process's.
 */
export async function rsArenaInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../../client/src/cli/main.js');
  const captured = { stdout: '', stderr: '' };
  const restore = (['stdout', 'stderr'] as const).map((name) => {
    const stream = process[name];
    const write = stream.write;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (typeof chunk !== 'string') return (write as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
      captured[name] += chunk;
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof stream.write;
    return () => {
      stream.write = write;
    };
  });
  try {
    const code = await main(args);
    return { code, ...captured };
  } finally {
    for (const r of restore) r();
  }
}

/** The records of a results file. */
export const records = (file: string): AttackRecord[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => AttackRecord.parse(JSON.parse(l)));

/** Queries the records say they spent: each attack's, plus the fresh answers asked on its adversarial after it. */
export const spent = (rs: AttackRecord[]): number => rs.reduce((s, r) => s + r.queries.total + (r.confirmation?.answers ?? 0), 0);
