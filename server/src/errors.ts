// One error shape for every failure: {error, message}, with the HTTP status that fits.
import type { z } from 'zod';
import { formatZodError } from '@rs-arena/shared/zod-error';

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, code = 'bad_request') => new HttpError(400, code, message);
export const notFound = (message: string) => new HttpError(404, 'not_found', message);

/** Parses with a zod schema, or fails with a 400 naming the offending field. */
export function parseOr400<S extends z.ZodType>(schema: S, data: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw badRequest(`invalid ${what}: ${formatZodError(result.error, { schema, max: 3 })}`, 'invalid_' + what.replace(/\W+/g, '_'));
}
