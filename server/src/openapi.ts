// The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with.
// Each route declares its operation here when it registers (route.ts); the document passes
// Redocly's recommended rules (test/unit/server/openapi.test.ts).
import { z } from 'zod';
import type { Role } from '@rs-arena/shared/api';
import { ErrorBody } from '@rs-arena/shared/api';

export interface Operation {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Fastify path (":id"), converted to OpenAPI ("{id}"). */
  path: string;
  /** Unique across the document: what a generated client names the call. */
  operationId: string;
  summary: string;
  tag: string;
  /** Least role needed; undefined: no key needed. */
  role?: Role;
  query?: z.ZodObject;
  /** JSON body schema, and whether raw float32 or image bodies are accepted too. */
  body?: { json?: z.ZodType; binary?: boolean; image?: boolean; optional?: boolean };
  response: z.ZodType | 'text';
  errors?: number[];
  /** What an error status means here, where more than "error" (e.g. a charged refusal). */
  errorNotes?: Partial<Record<number, string>>;
  /** Schema of the error bodies, when not the /v1 {error, message} (the Open Inference Protocol's {error}). */
  errorBody?: z.ZodType;
}

export class OpenApi {
  private readonly operations: Operation[] = [];

  add(op: Operation): void {
    if (this.operations.some((o) => o.operationId === op.operationId)) throw new Error(`OpenAPI: operationId "${op.operationId}" is declared twice`);
    this.operations.push(op);
  }

  document(version: string): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
    for (const op of this.operations) {
      const path = op.path.replace(/:(\w+)/g, '{$1}');
      const params = [...op.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
      const query = op.query
        ? Object.entries(op.query.shape).map(([name, s]) => ({
            name,
            in: 'query',
            required: !(s as z.ZodType).safeParse(undefined).success,
            schema: schema(s as z.ZodType),
          }))
        : [];
      const content: Record<string, unknown> = {};
      if (op.body?.json) content['application/json'] = { schema: schema(op.body.json) };
      if (op.body?.binary) {
        content['application/octet-stream'] = {
          schema: { type: 'string', format: 'binary', description: 'little-endian float32 values; batch = bytes / (4 · input size)' },
        };
      }
      if (op.body?.image) {
        for (const t of ['image/png', 'image/jpeg']) {
          content[t] = {
            schema: { type: 'string', format: 'binary', description: 'one image, decoded and resized to the input (8-bit: unfit for precise attacks)' },
          };
        }
      }
      const responses: Record<string, unknown> = {
        200: {
          description: 'OK',
          content: op.response === 'text' ? { 'text/plain': { schema: { type: 'string' } } } : { 'application/json': { schema: schema(op.response) } },
        },
      };
      for (const code of op.errors ?? [])
        responses[code] = { description: op.errorNotes?.[code] ?? 'error', content: { 'application/json': { schema: schema(op.errorBody ?? ErrorBody) } } };
      paths[path] ??= {};
      paths[path][op.method] = {
        operationId: op.operationId,
        summary: op.summary,
        tags: [op.tag],
        // An operation without a role is open to anyone: an empty security list says so.
        ...(op.role ? { security: [{ bearer: [] }], description: `Needs a key with role ${op.role} or above.` } : { security: [] }),
        parameters: [...params, ...query],
        ...(Object.keys(content).length ? { requestBody: { required: !op.body?.optional, content } } : {}),
        responses,
      };
    }
    return {
      openapi: '3.1.0',
      info: {
        title: 'rs-arena defended inference server',
        version,
        license: { name: 'MIT', identifier: 'MIT' },
        description:
          'Serves image classifiers behind randomized smoothing as a black box that answers only the top-1 label, counting every query against per-key budgets.',
      },
      // Relative: the document describes the server that serves it, wherever that is.
      servers: [{ url: '/', description: 'the server answering this document' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      paths,
    };
  }
}
