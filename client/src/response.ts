// A server's JSON answer checked against its schema in shared/src/api.ts instead of trusted: a
// server of another version, or a proxy's error page, gives one clear error naming the route and
// the field at fault, not an undefined deep inside an attack.
import type { z } from 'zod';
import { ErrorBody } from '@rs-arena/shared/api';
import { formatZodError } from '@rs-arena/shared/zod-error';

/** The server answered 2xx with a body that is not what the API says. */
export class ResponseError extends Error {
  override name = 'ResponseError';
}

/** `text` parsed as JSON and validated by `schema`; `what` names the call in the error ("GET /v1/usage"). */
export function parseResponse<S extends z.ZodType>(schema: S, text: string, what: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ResponseError(`${what}: the answer is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  throw new ResponseError(`${what}: the answer does not match the API (${formatZodError(result.error, { schema })})`);
}

/** The `{error, message}` of a refusal, or undefined when the body is not one (a proxy's page). */
export function errorBody(text: string): ErrorBody | undefined {
  try {
    return ErrorBody.safeParse(JSON.parse(text)).data;
  } catch {
    return undefined;
  }
}
