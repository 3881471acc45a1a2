// Any JSON API, such as a product's `POST /classify {"image": "<base64 PNG>"}` → `{"label":
// "sandal", "score": 0.93}`: the endpoint URL is the route itself, --template is the request body
// with the placeholder "$INPUT" (a JSON string, quotes included) where the input goes (base64
// PNG/JPEG, or nested arrays of numbers with --encoding json), and --label-path says where the
// label is in the answer (JSONPath-like: $.label, $.predictions[0].class, $['top-1']). The value
// found is an index, a class name (mapped by --classes FILE, or a number as text), class scores
// (argmax) or {name: score} (the largest). One input per request.
import type { Endpoint } from '../endpoint.js';
import { type Protocol, ProtocolError, ProtocolUsageError, type Session, answerJson, nested, requireEncoding, requireShape } from './protocol.js';
import { topClass } from './torchserve.js';

const PLACEHOLDER = '"$INPUT"';

export const json: Protocol = {
  name: 'json',
  summary: 'any JSON API: --template with "$INPUT", --label-path to the label (e.g. $.label); png, jpeg (base64) or json numbers',
  encodings: ['png', 'jpeg', 'json'],
  async connect(endpoint: Endpoint, args): Promise<Session> {
    const encoding = requireEncoding(args, json);
    const shape = requireShape(args, 'json');
    const template = parseTemplate(args.template);
    const path = parsePath(args.labelPath);
    const size = shape[0] * shape[1] * shape[2];
    const what = `POST ${endpoint.url}`;
    return {
      inputShape: shape,
      range: args.range ?? [0, 1],
      maxBatch: 1,
      encoding,
      dataset: shape[1] >= 100 ? 'imagenet' : 'other',
      banner: `JSON API ${endpoint.url} (${encoding.name} inputs, label at ${args.labelPath})`,
      labelSource: `answer at ${args.labelPath}`,
      request(batch) {
        const value = encoding.name === 'json' ? nested(batch.values.subarray(0, size), shape, args.layout ?? 'nchw') : batch.images[0].toString('base64');
        return { path: '', body: Buffer.from(template.before + JSON.stringify(value) + template.after), headers: { 'content-type': 'application/json' } };
      },
      labels(answer) {
        const body = answerJson(answer, what);
        const found = select(body, path);
        if (found === undefined)
          throw new ProtocolError(`${what}: --label-path ${args.labelPath} finds nothing in the answer ${JSON.stringify(body).slice(0, 160)}`);
        return Int32Array.of(topClass(found, args.classes, `${what} (${args.labelPath})`));
      },
    };
  },
};

/** The template split at its one placeholder; it must be JSON with the placeholder as a value. */
export function parseTemplate(template: string | undefined): { before: string; after: string } {
  if (template === undefined)
    throw new ProtocolUsageError(`--protocol json needs --template, the request body with ${PLACEHOLDER} where the input goes, e.g. '{"image": "$INPUT"}'`);
  const at = template.indexOf(PLACEHOLDER);
  if (at < 0) throw new ProtocolUsageError(`--template has no placeholder ${PLACEHOLDER} (quotes included) for the input: ${template}`);
  if (template.indexOf(PLACEHOLDER, at + 1) >= 0) throw new ProtocolUsageError(`--template has the placeholder ${PLACEHOLDER} more than once`);
  const parts = { before: template.slice(0, at), after: template.slice(at + PLACEHOLDER.length) };
  try {
    JSON.parse(parts.before + '0' + parts.after);
  } catch {
    throw new ProtocolUsageError(`--template is not JSON with ${PLACEHOLDER} as a value: ${template}`);
  }
  return parts;
}

type Step = string | number;

/** $.a.b[0]['c d'] → ['a', 'b', 0, 'c d']; a usage error when it does not read. */
export function parsePath(text: string | undefined): Step[] {
  if (text === undefined)
    throw new ProtocolUsageError('--protocol json needs --label-path, where the label is in the answer (e.g. $.label or $.predictions[0].class)');
  let rest = text.trim().replace(/^\$/, '');
  if (rest !== '' && !/^[.[]/.test(rest)) rest = '.' + rest;
  const steps: Step[] = [];
  while (rest) {
    const m = /^\.([A-Za-z_$][\w$-]*)|^\[(\d+)\]|^\['([^']*)'\]|^\["([^"]*)"\]/.exec(rest);
    if (!m) throw new ProtocolUsageError(`--label-path "${text}" does not read as a path ($.field, [index], ['key']) at "${rest}"`);
    steps.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? m[3] ?? m[4]));
    rest = rest.slice(m[0].length);
  }
  return steps;
}

export function select(value: unknown, path: Step[]): unknown {
  let v = value;
  for (const step of path) {
    if (v === null || typeof v !== 'object') return undefined;
    if (typeof step === 'number' ? !Array.isArray(v) : Array.isArray(v)) return undefined;
    v = (v as Record<string | number, unknown>)[step];
    if (v === undefined) return undefined;
  }
  return v;
}
