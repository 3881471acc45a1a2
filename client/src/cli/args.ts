// The command line's one way to read flags and report a usage error: an unknown flag or name is
// one line naming it with the closest known one, and exit 2; help is printed only on --help.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closest } from '@rs-arena/shared/suggest';

/** A usage error: printed as one line `rs-arena <command>: <message>` with a pointer to --help, exit 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs, strict, its errors turned into UsageErrors with a "did you mean" for an unknown flag. */
export function parseFlags<O extends Options>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /'([^']+)'/.exec(e.message)?.[1] ?? '';
      const name = flag.replace(/^-+/, '').split('=')[0];
      const near = closest(name, Object.keys(options));
      throw new UsageError(`unknown option ${flag}${near ? ` (did you mean --${near}?)` : ''}`);
    }
    throw new UsageError(e.message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

/** `"x"` is not one of `known`: a UsageError naming it, the closest known one, and the choices. */
export function unknownName(what: string, name: string, known: readonly string[]): UsageError {
  const near = closest(name, known);
  return new UsageError(`unknown ${what} "${name}"${near ? ` (did you mean "${near}"?)` : ''}; choose from ${known.join(', ')}`);
}

/** Prints a usage error on one line (no help text) and returns exit code 2. */
export function usageExit(command: string, message: string): number {
  process.stderr.write(`${command}: ${message} (${command} --help for help)\n`);
  return 2;
}

/**
 * Integer flags, each at least its minimum (`min[name]`, 0 or 1): the values as numbers, or a
 * UsageError naming the first flag that is not such an integer.
 */
export function integerFlags<K extends string>(values: NoInfer<Record<K, string | undefined>>, min: Record<K, 0 | 1>): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const name of Object.keys(min) as K[]) {
    const v = Number(values[name]);
    if (!Number.isInteger(v) || v < min[name])
      throw new UsageError(`--${name} must be a ${min[name] === 1 ? 'positive' : 'non-negative'} integer, got "${values[name]}"`);
    out[name] = v;
  }
  return out;
}
