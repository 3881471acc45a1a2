// Secrets never reach an output: a command line is recorded (preset.json, report.html) with the
// value of every key flag and of every --header replaced, and an endpoint URL without its
// user:password. The one list of secret-bearing flags lives here.

/** Flags whose value is a secret (the whole value), or a header whose value is one (`Name: value`). */
const SECRET_FLAGS: readonly string[] = ['key', 'admin-key', 'evaluator-key', 'client-key', 'metrics-key'];
const HEADER_FLAGS: readonly string[] = ['header'];
const REDACTED = '<redacted>';

const hideHeader = (h: string) => {
  const colon = h.indexOf(':');
  return colon < 0 ? REDACTED : `${h.slice(0, colon)}: ${REDACTED}`;
};

/** argv with the value of each secret flag (`--key V` or `--key=V`) and each header's value hidden. */
export function redactArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    const flag = m?.[1] ?? '';
    const secret = SECRET_FLAGS.includes(flag);
    const header = HEADER_FLAGS.includes(flag);
    if (!secret && !header) {
      // A URL may carry user:password, as a value (`--queue redis://:pw@host`) or after `=`.
      out.push(!arg.startsWith('-') ? redactUrl(arg) : m?.[2] !== undefined ? `--${flag}=${redactUrl(m[2])}` : arg);
      continue;
    }
    const hide = (v: string) => (header ? hideHeader(v) : REDACTED);
    if (m?.[2] !== undefined) out.push(`--${flag}=${hide(m[2])}`);
    else {
      out.push(arg);
      if (i + 1 < argv.length) out.push(hide(argv[++i]));
    }
  }
  return out;
}

/** A command line for the record: the program and its redacted arguments, each quoted where needed. */
export function commandLine(program: string, argv: readonly string[]): string {
  return [program, ...redactArgv(argv).map(quote)].join(' ');
}

/** A recorded command line written before redaction existed: its secret values hidden the same way. */
export function redactCommand(command: string): string {
  return command.replace(/(--(?:[a-z-]+))(=|\s+)('[^']*'|"[^"]*"|\S+)/g, (all, flag: string, sep: string, value: string) => {
    const name = flag.slice(2);
    if (SECRET_FLAGS.includes(name)) return `${flag}${sep}${REDACTED}`;
    if (HEADER_FLAGS.includes(name)) return `${flag}${sep}'${hideHeader(value.replace(/^['"]|['"]$/g, ''))}'`;
    return all;
  });
}

/** A URL without user:password@ (an endpoint written with credentials in it). */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, `$1${REDACTED}@`);
}

const quote = (s: string) => (/^[A-Za-z0-9_./:=,@%+<>-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
