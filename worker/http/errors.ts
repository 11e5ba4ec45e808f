// The one place that turns failures into HTTP responses. LoopwrightError codes map to statuses;
// fastify's own transport errors (body too large, malformed JSON, wrong media type) become the
// same `{ error: { code, message, fields } }` envelope; anything else is a 500 whose body says
// nothing about internals (the log line carries the detail, never request bodies).
// Must not: echo request content back (it may hold PII) or leak stack traces and upstream messages.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { isLoopwrightError, type TErrorCode } from '../../workflows/domain/errors.js';

export interface TFieldError {
  path: string;
  message: string;
}

export interface TErrorBody {
  error: { code: TErrorCode | 'payload_too_large' | 'unsupported_media_type' | 'not_found'; message: string; fields?: TFieldError[] };
  /** For a command a workflow refused (409): the validator's code, e.g. `closed`, `invalid_command`. */
  refusal?: string;
}

export const STATUS_BY_CODE: Record<TErrorCode, number> = {
  invalid_input: 400,
  invalid_config: 500,
  not_found: 404,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  upstream_unavailable: 503,
  upstream_rejected: 502,
  tampered: 401,
  internal: 500,
};

/** zod issues as `{ path, message }`, with an optional prefix (e.g. `items.3`) for batch members. */
export function fieldErrors(issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>, prefix: ReadonlyArray<PropertyKey> = []): TFieldError[] {
  return issues.map((i) => ({ path: [...prefix, ...i.path].map(String).join('.') || '(root)', message: i.message }));
}

export function errorBody(code: TErrorBody['error']['code'], message: string, fields?: TFieldError[]): TErrorBody {
  return { error: { code, message, ...(fields && fields.length > 0 ? { fields } : {}) } };
}

interface Mapped {
  status: number;
  body: TErrorBody;
  headers?: Record<string, string>;
}

export function mapError(err: unknown, bodyLimitBytes: number): Mapped {
  if (isLoopwrightError(err)) {
    const status = STATUS_BY_CODE[err.code];
    if (status >= 500 && err.code !== 'upstream_unavailable') {
      return { status, body: errorBody('internal', 'internal error') };
    }
    const fields = Array.isArray(err.details['fields']) ? (err.details['fields'] as TFieldError[]) : undefined;
    const headers: Record<string, string> = {};
    if (err.code === 'unauthorized' && err.details['scheme'] === 'bearer') headers['www-authenticate'] = 'Bearer realm="loopwright"';
    if (err.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
    const refusal = typeof err.details['refusal'] === 'string' ? { refusal: err.details['refusal'] } : {};
    return { status, body: { ...errorBody(err.code, err.message, fields), ...refusal }, headers };
  }
  // A route fastify validates with its zod schema (openapi.ts): the same answer as a handler's own parse.
  if (hasZodFastifySchemaValidationErrors(err)) {
    const part = { body: 'request body', querystring: 'query', params: 'path', headers: 'headers' }[err.validationContext ?? 'body'] ?? 'request';
    const fields = err.validation.map((v) => ({ path: v.instancePath.slice(1).split('/').join('.') || '(root)', message: v.message ?? 'invalid' }));
    return { status: 400, body: errorBody('invalid_input', `invalid ${part}`, fields) };
  }
  const fe = err as Partial<FastifyError> | undefined;
  switch (fe?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: errorBody('payload_too_large', `request body is larger than the limit of ${bodyLimitBytes} bytes; split the batch`) };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, body: errorBody('invalid_input', 'request body is not valid JSON') };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: errorBody('invalid_input', 'request body is empty; expected a JSON object') };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: errorBody('unsupported_media_type', 'unsupported Content-Type; send application/json') };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, body: errorBody('invalid_input', 'Content-Length does not match the body') };
    default:
      break;
  }
  // fastify's JSON parser reports syntax errors as a 400 SyntaxError without one of the codes above.
  if (err instanceof SyntaxError && (fe as { statusCode?: number }).statusCode === 400) {
    return { status: 400, body: errorBody('invalid_input', 'request body is not valid JSON') };
  }
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: errorBody('invalid_input', fe.message ?? 'bad request') };
  }
  return { status: 500, body: errorBody('internal', 'internal error') };
}

/** fastify error handler: log the cause (not the body), answer with the mapped envelope. */
export function createErrorHandler(bodyLimitBytes: number) {
  return (err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const mapped = mapError(err, bodyLimitBytes);
    if (mapped.status >= 500) {
      req.log.error({ err: { type: (err as Error)?.name, code: (err as { code?: unknown })?.code, message: (err as Error)?.message } }, 'request failed');
    } else {
      req.log.info({ code: mapped.body.error.code, status: mapped.status }, 'request refused');
    }
    if (mapped.headers) void reply.headers(mapped.headers);
    return reply.code(mapped.status).send(mapped.body);
  };
}
