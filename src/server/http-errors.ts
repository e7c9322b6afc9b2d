/**
 * Errors as the OpenAI API sends them: an HTTP status and `{ error: { message, type, param, code } }`.
 * SparseScopeErrors map by code: what the request got wrong is a 400, the rest a 500.
 */
import { isSparseScopeError } from '../errors.ts';
import type { ApiErrorBody } from '../api/openai-types.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

const CLIENT_CODES = new Set(['bad-argument', 'context-overflow', 'template', 'tokenizer']);

export function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (isSparseScopeError(e)) {
    if (CLIENT_CODES.has(e.code)) return new HttpError(400, e.message, 'invalid_request_error', e.code);
    return new HttpError(500, e.message, 'server_error', e.code);
  }
  return new HttpError(500, e instanceof Error ? e.message : String(e), 'server_error');
}

export function errorBody(e: HttpError): ApiErrorBody {
  return { error: { message: e.message, type: e.type, param: e.param, code: e.code } };
}
