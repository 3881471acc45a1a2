// The accounting every model route goes through, in this one function: check and book the batch
// against the key's budget (429 before the model is touched), run, count forward passes. Queries
// that get no answer are given back: when the model fails, and when the client disconnects (the
// work stops at its next chunk of forward passes). A query the defense refuses (a detector's
// `QueryRefused`) was asked: it stays charged, and the refusal is a 403 the idempotent-retry store
// keeps like an answer (charged once).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Usage } from '@rs-arena/shared/api';
import { budgetFor, type ApiKey } from '../auth.js';
import { HttpError } from '../errors.js';
import type { Deployment } from '../deployments.js';
import type { AppContext } from '../context.js';
import { Cancelled } from '../smoothing.js';
import { QueryRefused } from '../defense.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request was refused by its defense and still charged (its refusal is kept for retries). */
    chargedRefusal?: boolean;
  }
}

export interface ChargeOptions<T> {
  ctx: AppContext;
  request: FastifyRequest;
  reply: FastifyReply;
  key: ApiKey;
  deployment: Deployment;
  /** The route's name in metrics. */
  route: string;
  /** Queries in the batch. */
  count: number;
  /** Forward passes the work costs (at most). */
  forwardPasses: number;
  run(signal: AbortSignal): Promise<T>;
  /** Forward passes actually made, when the work may stop short of `forwardPasses` (counted, not refunded: the budget counts queries). */
  spent?(result: T): number;
}

export async function charged<T>(o: ChargeOptions<T>): Promise<{ result: T; usage: Usage }> {
  const { ctx, request, reply, key, deployment, route, count, forwardPasses, run, spent } = o;
  const limit = budgetFor(key, deployment.id);
  const booked = await ctx.ledger.charge(key.id, deployment.id, count, limit);
  if (!booked.ok) {
    ctx.metrics.budgetRejected(deployment, route);
    request.log.info({ count, remaining: booked.usage.remaining }, 'query budget exhausted');
    throw new HttpError(
      429,
      'budget_exhausted',
      `query budget exhausted: this batch of ${count} ${count === 1 ? 'query' : 'queries'} exceeds the ${booked.usage.remaining} ` +
        `remaining of ${limit} for key "${key.id}" on deployment "${deployment.id}"`,
    );
  }
  const started = performance.now();
  const gone = clientGone(reply);
  let result: T;
  try {
    result = await run(gone.signal);
  } catch (err) {
    if (err instanceof QueryRefused) {
      // Asked, so charged; no forward pass was made for it.
      request.chargedRefusal = true;
      request.log.info({ count, code: err.code }, 'query refused by the defense (charged)');
      throw new HttpError(403, err.code, err.message);
    }
    await ctx.ledger.refund(key.id, deployment.id, count);
    if (!(err instanceof Cancelled)) throw err;
    await ctx.ledger.addForwardPasses(key.id, deployment.id, err.forwardPasses);
    ctx.metrics.spent(deployment, err.forwardPasses);
    request.log.info({ count, forwardPasses: err.forwardPasses }, 'client went away: stopped and refunded');
    throw new HttpError(499, 'client_closed_request', 'the client closed the connection before the answer; nothing was charged');
  } finally {
    gone.dispose();
  }
  const passes = spent ? spent(result) : forwardPasses;
  await ctx.ledger.addForwardPasses(key.id, deployment.id, passes);
  ctx.metrics.answered(deployment, route, count, passes, (performance.now() - started) / 1000);
  return { result, usage: booked.usage };
}

/** A signal that aborts when the connection closes before the response is written. */
function clientGone(reply: FastifyReply): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const res = reply.raw;
  const onClose = () => {
    if (!res.writableFinished) controller.abort();
  };
  res.on('close', onClose);
  if (res.destroyed) onClose();
  return { signal: controller.signal, dispose: () => res.off('close', onClose) };
}
