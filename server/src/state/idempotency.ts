// Idempotent retries of the charged routes (POST /v1/deployments/:id/{predict,votes,certify} and the
// Open Inference Protocol's POST /v2/models/:name[/versions/:version]/infer). A
// client sends `Idempotency-Key: <random id>` and reuses it when it retries after a reset
// connection; the first answer is kept (state/answers.ts) and a retry is given it again, marked
// `Idempotent-Replayed: true`: the same labels, no new noise drawn, no second charge. A retry while
// the first is still running gets 409 (retry later); the same id with another body gets 422.
// Installed as hooks on exactly those routes (an onRoute hook), so the route files stay as they are.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions as FastifyRouteOptions } from 'fastify';
import { HttpError } from '../errors.js';
import type { AppContext } from '../context.js';

const IDEMPOTENCY_HEADER = 'idempotency-key';
const ID = /^[\x21-\x7e]{8,128}$/;
/** The routes that charge queries: the only ones where a retry could be charged twice. */
const CHARGED_ROUTE = /^\/v1\/deployments\/:id\/[a-z]+$|^\/v2\/models\/:[a-z]+(\/versions\/:[a-z]+)?\/infer$/;

declare module 'fastify' {
  interface FastifyRequest {
    /** The answer-store id this request reserved and its fingerprint, until its answer is kept or dropped. */
    idempotency?: { id: string; fingerprint: string };
  }
}

export function installIdempotency(app: FastifyInstance, ctx: AppContext): void {
  const before = async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers[IDEMPOTENCY_HEADER];
    if (header === undefined) return;
    if (typeof header !== 'string' || !ID.test(header)) {
      throw new HttpError(400, 'bad_idempotency_key', 'Idempotency-Key must be 8 to 128 printable ASCII characters without spaces');
    }
    // Scoped to the caller's credentials: one key can never read another's answers.
    const scope = createHash('sha256')
      .update(request.headers.authorization ?? '')
      .digest('hex')
      .slice(0, 32);
    const id = `${scope}:${header}`;
    const fingerprint = fingerprintOf(request);
    const found = await ctx.state.answers.begin(id, fingerprint);
    if (found.state === 'new') {
      request.idempotency = { id, fingerprint };
      return;
    }
    const sameRequest = (found.state === 'done' ? found.answer.fingerprint : found.fingerprint) === fingerprint;
    if (!sameRequest)
      throw new HttpError(
        422,
        'idempotency_key_reused',
        'this Idempotency-Key was used for another request (another route or body); use a new key per request',
      );
    if (found.state === 'pending')
      throw new HttpError(409, 'request_in_progress', 'a request with this Idempotency-Key is still running; retry shortly to get its answer');
    request.log.info('replayed an answered request (Idempotency-Key)');
    const { answer } = found;
    if (answer.binary)
      return reply.code(answer.status).headers(answer.binary.headers).header('idempotent-replayed', 'true').send(Buffer.from(answer.body, 'base64'));
    return reply.code(answer.status).header('content-type', 'application/json; charset=utf-8').header('idempotent-replayed', 'true').send(answer.body);
  };

  const after = async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const held = request.idempotency;
    if (held === undefined) return payload;
    request.idempotency = undefined;
    try {
      // Only what was charged is kept: an answer, or a defense's refusal (a detected query is charged);
      // any other refusal (4xx) charged nothing and an error (5xx) was refunded, so a retry may run again.
      const kept = reply.statusCode === 200 || (reply.statusCode === 403 && request.chargedRefusal === true);
      if (kept && typeof payload === 'string') {
        await ctx.state.answers.finish(held.id, { fingerprint: held.fingerprint, status: reply.statusCode, body: payload });
      } else if (kept && Buffer.isBuffer(payload)) {
        // /v2 binary tensor data: the bytes and the headers that say where its JSON part ends.
        const headers: Record<string, string> = {};
        for (const name of ['content-type', 'inference-header-content-length']) {
          const v = reply.getHeader(name);
          if (v !== undefined) headers[name] = String(v);
        }
        await ctx.state.answers.finish(held.id, {
          fingerprint: held.fingerprint,
          status: reply.statusCode,
          body: payload.toString('base64'),
          binary: { headers },
        });
      } else {
        await ctx.state.answers.abandon(held.id);
      }
    } catch (err) {
      // The answer still goes out (it was charged); a retry then waits for the reservation to lapse.
      request.log.warn({ err }, 'could not keep the answer for idempotent retries');
    }
    return payload;
  };

  app.addHook('onRoute', (route: FastifyRouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.includes('POST') || !CHARGED_ROUTE.test(route.url)) return;
    route.preHandler = [...toArray(route.preHandler), before];
    route.onSend = [...toArray(route.onSend), after];
  });
}

function fingerprintOf(request: FastifyRequest): string {
  const body = request.body;
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body ?? null));
  return createHash('sha256')
    .update(`${request.method} ${request.url}\n${request.headers['content-type'] ?? ''}\n`)
    .update(bytes)
    .digest('hex');
}

function toArray<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}
