// A route, declared once: the same zod schemas validate its request and make its OpenAPI operation.
// This is what fastify-type-provider-zod does (7.0.0 fits fastify 5 and zod 4, but brings
// @fastify/swagger as a peer to build the document), in the few lines this server needs: its
// errors are the server's own 400s in the one zod format, its document is openapi.ts's, and the
// model routes' bodies are JSON, float32 or an image, decoded by the route against the deployment.
// The query string, and a JSON-only body, are parsed before the handler runs (preValidation, after
// authentication): the handler gets the parsed values, typed, and a bad request is refused before
// anything is charged.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { AppContext } from './context.js';
import { parseOr400 } from './errors.js';
import type { Operation } from './openapi.js';

type Parsed<S> = S extends z.ZodType ? z.output<S> : unknown;

interface RouteRequest<Q, B> {
  Querystring: Parsed<Q>;
  Body: Parsed<B>;
  Params: Record<string, string>;
}

export interface RouteSpec<Q extends z.ZodObject | undefined, B extends z.ZodType | undefined> extends Omit<Operation, 'path' | 'query' | 'body'> {
  /** Fastify path (":id") inside the plugin (its prefix is added). */
  url: string;
  /** The query string's schema: parsed before the handler (a 400 `invalid_query` otherwise). */
  query?: Q;
  /**
   * The body. A JSON-only body is parsed with `json` before the handler (a 400 `invalid_<name>`;
   * `optional`: an absent body is `{}`). A body that may also be float32 or an image (`binary`,
   * `image`), or that the route decodes itself (`decodedByRoute`, the Open Inference Protocol's
   * binary extension), is decoded by the route; `json` then documents its JSON form.
   */
  body?: { json?: B; binary?: boolean; image?: boolean; decodedByRoute?: boolean; name?: string; optional?: boolean };
  handler(request: FastifyRequest<RouteRequest<Q, B>>, reply: FastifyReply): Promise<unknown>;
}

/** Registers the route on `app` and its operation in the app's OpenAPI document. */
export function route<Q extends z.ZodObject | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  app: FastifyInstance,
  ctx: AppContext,
  spec: RouteSpec<Q, B>,
): void {
  const { url, handler, query, body, ...operation } = spec;
  ctx.openapi.add({
    ...operation,
    path: (app.prefix + url).replace(/(.)\/$/, '$1'), // a plugin's '/' is its prefix
    ...(query ? { query } : {}),
    ...(body ? { body: { json: body.json, binary: body.binary, image: body.image, optional: body.optional } } : {}),
  });
  const json = body?.json && !body.binary && !body.image && !body.decodedByRoute ? body.json : undefined;
  const what = body?.name ?? 'body';
  app.route<RouteRequest<Q, B>>({
    method: spec.method.toUpperCase() as 'GET' | 'POST' | 'PUT' | 'DELETE',
    url,
    config: spec.role ? { role: spec.role } : {},
    ...(query || json
      ? {
          preValidation: async (request) => {
            if (query) request.query = parseOr400(query, request.query ?? {}, 'query') as Parsed<Q>;
            if (json) request.body = parseOr400(json, request.body ?? (body?.optional ? {} : undefined), what) as Parsed<B>;
          },
        }
      : {}),
    handler,
  });
}
