// The accounting every model route goes through: check and book the batch against the key's
// budget (429 before the model is touched), run, count forward passes, refund on failure.
import type { FastifyRequest } from 'fastify';
import type { Usage } from '@rs-arena/shared/api';
import { budgetFor, type ApiKey } from '../auth.js';
import { HttpError } from '../errors.js';
import type { Deployment } from '../deployments.js';
import type { AppContext } from '../context.js';

export async function charged<T>(
  ctx: AppContext,
  request: FastifyRequest,
  key: ApiKey,
  deployment: Deployment,
  route: string,
  count: number,
  forwardPasses: number,
  run: () => Promise<T>,
): Promise<{ result: T; usage: Usage }> {
  const labels = { deployment: deployment.id, route };
  const limit = budgetFor(key, deployment.id);
  const booked = await ctx.ledger.charge(key.id, deployment.id, count, limit);
  if (!booked.ok) {
    ctx.metrics.budgetRejections.inc(labels);
    request.log.info({ count, remaining: booked.usage.remaining }, 'query budget exhausted');
    throw new HttpError(
      429,
      'budget_exhausted',
      `query budget exhausted: this batch of ${count} ${count === 1 ? 'query' : 'queries'} exceeds the ${booked.usage.remaining} ` +
        `remaining of ${limit} for key "${key.id}" on deployment "${deployment.id}"`,
    );
  }
  const started = performance.now();
  let result: T;
  try {
    result = await run();
  } catch (err) {
    await ctx.ledger.refund(key.id, deployment.id, count);
    throw err;
  }
  await ctx.ledger.addForwardPasses(key.id, deployment.id, forwardPasses);
  ctx.metrics.queries.inc(labels, count);
  ctx.metrics.forwardPasses.inc({ deployment: deployment.id }, forwardPasses);
  ctx.metrics.latency.observe(labels, (performance.now() - started) / 1000);
  return { result, usage: booked.usage };
}
