// The command line of every script under scripts/, parsed one way (node:util's parseArgs): `--help`
// prints the usage and each option with its default; an unknown option, a missing value or a
// number option given something that is not a number is one clear line and exit code 2, not a
// stack trace or a NaN carried into a benchmark.
import { parseArgs } from 'node:util';

interface Option {
  type: 'string' | 'boolean';
  default?: string | boolean;
  short?: string;
  /** A string option that takes numbers only (implied by a numeric default). */
  number?: boolean;
  /** One line for --help. */
  help?: string;
}

type Values<O extends Record<string, Option>> = {
  [K in keyof O]: O[K]['type'] extends 'boolean'
    ? O[K] extends { default: boolean }
      ? boolean
      : boolean | undefined
    : O[K] extends { default: string }
      ? string
      : string | undefined;
};

/** A string option whose default is a number takes numbers only. */
const numeric = (o: Option) =>
  o.number === true || (o.type === 'string' && typeof o.default === 'string' && o.default !== '' && Number.isFinite(Number(o.default)));

export function usageText(usage: string, options: Record<string, Option>): string {
  const lines = Object.entries(options).map(([name, o]) => {
    const flag = `--${name}${o.type === 'string' ? ' VALUE' : ''}`;
    const dflt = o.default === undefined || o.default === false ? '' : ` (default ${o.default})`;
    return `  ${flag.padEnd(28)} ${o.help ?? ''}${dflt}`.trimEnd();
  });
  return `usage: ${usage}\n\n${lines.join('\n')}\n  ${'--help'.padEnd(28)} this text`;
}

/** A command line the script cannot run with: the message names what is wrong. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The option values of `argv`, 'help' when it asks for the usage; throws UsageError on a bad argument. */
export function parseScriptArgs<const O extends Record<string, Option>>(options: O, argv: string[]): Values<O> | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  const config = Object.fromEntries(Object.entries(options).map(([name, { help: _, number: __, ...o }]) => [name, o]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: config as never, strict: true, allowPositionals: false }).values as typeof values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  for (const [name, o] of Object.entries(options)) {
    const v = values[name];
    if (numeric(o) && typeof v === 'string' && (v.trim() === '' || !Number.isFinite(Number(v)))) throw new UsageError(`--${name} takes a number, not "${v}"`);
  }
  return values as Values<O>;
}

/** Parses this process's arguments against `options`; prints the usage and exits on --help (0) or a bad argument (2). */
export function scriptArgs<const O extends Record<string, Option>>(usage: string, options: O): Values<O> {
  try {
    const values = parseScriptArgs(options, process.argv.slice(2));
    if (values !== 'help') return values;
    process.stdout.write(`${usageText(usage, options)}\n`);
    process.exit(0);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${usageText(usage, options)}\n`);
    process.exit(2);
  }
}
