/**
 * `sparsescope serve`'s HTTP server (node:http only): the OpenAI routes over one SparseScopeEngine.
 *   GET  /v1/models
 *   POST /v1/chat/completions   (stream: SSE chunks, else one chat.completion)
 *   POST /v1/completions        (same for text completions)
 * Replies run one at a time; at most `maxQueue` more may wait, beyond that a 429. A client that
 * disconnects cancels its reply (queued: it never runs; running: the engine stops at the next token).
 * CORS is open (the playground calls from its own origin); with `apiKey` set, requests must carry it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { SparseScopeEngine } from '../api/engine.ts';
import type { ChatCompletionCreateParams, CompletionCreateParams } from '../api/openai-types.ts';
import { HttpError, errorBody, toHttpError } from './http-errors.ts';
import { endSse, startSse, writeEvent } from './sse.ts';

export interface ServeOptions {
  /** Replies that may wait behind the running one (default 8); one more is answered 429. */
  maxQueue?: number;
  /** Largest request body in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** When set, requests need `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Called as each completion request ends: 'done', 'cancelled' (client went away) or 'failed'. */
  onReplyEnd?: (outcome: 'done' | 'cancelled' | 'failed') => void;
  /** Called when a completion request is admitted, with how many are running or waiting now. */
  onAdmit?: (admitted: number) => void;
}

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-max-age': '600',
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...CORS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, e: HttpError): void {
  if (res.headersSent) return;
  sendJson(res, e.status, errorBody(e));
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(type))
    throw new HttpError(415, `send the request as application/json (got ${type ? JSON.stringify(type) : 'no content-type'})`);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > limit) throw new HttpError(413, `the request body is larger than ${limit} bytes`);
    parts.push(part);
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `the request body is not valid JSON: ${(e as Error).message}`);
  }
}

export function createApiServer(engine: SparseScopeEngine, o: ServeOptions = {}): Server {
  const maxQueue = o.maxQueue ?? 8;
  const maxBody = o.maxBodyBytes ?? 1 << 20;
  /** Completion requests admitted: the running one plus those waiting. */
  let admitted = 0;

  async function complete(req: IncomingMessage, res: ServerResponse, kind: 'chat' | 'text'): Promise<void> {
    const body = await readJson(req, maxBody);
    const model = (body as { model?: unknown } | null)?.model;
    if (typeof model === 'string' && model !== engine.modelId)
      throw new HttpError(
        404,
        `The model "${model}" does not exist; this server serves "${engine.modelId}"`,
        'invalid_request_error',
        'model_not_found',
        'model',
      );
    if (admitted >= 1 + maxQueue)
      throw new HttpError(
        429,
        `the server is busy: ${admitted} requests are running or queued (at most ${1 + maxQueue}); retry later`,
        'rate_limit_error',
        'queue_full',
      );
    admitted++;
    o.onAdmit?.(admitted);
    const cancel = new AbortController();
    // 'close' after a finished response is normal; before it, the client went away.
    res.on('close', () => {
      if (!res.writableFinished) cancel.abort();
    });
    let outcome: 'done' | 'cancelled' | 'failed' = 'failed';
    try {
      const signal = cancel.signal;
      const params = body as ChatCompletionCreateParams & CompletionCreateParams;
      const reply = kind === 'chat' ? await engine.chat.completions.create(params, { signal }) : await engine.completions.create(params, { signal });
      if (Symbol.asyncIterator in reply) {
        let started = false;
        try {
          for await (const chunk of reply) {
            if (!started) startSse(res, CORS);
            started = true;
            writeEvent(res, chunk);
          }
          if (!started) startSse(res, CORS);
          endSse(res);
        } catch (e) {
          if (!started) throw e;
          // Headers are gone: the error travels as one more event, as OpenAI-compatible servers do.
          if (!res.destroyed) {
            writeEvent(res, errorBody(toHttpError(e)));
            res.end();
          }
          if (!cancel.signal.aborted) throw e;
        }
      } else {
        sendJson(res, 200, reply);
      }
      outcome = cancel.signal.aborted ? 'cancelled' : 'done';
    } catch (e) {
      if (cancel.signal.aborted) outcome = 'cancelled';
      else throw e;
    } finally {
      admitted--;
      o.onReplyEnd?.(outcome);
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...CORS, 'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'authorization, content-type' });
      res.end();
      return;
    }
    if (o.apiKey !== undefined && req.headers.authorization !== `Bearer ${o.apiKey}`) {
      throw new HttpError(401, 'Incorrect API key provided: send Authorization: Bearer <key>', 'invalid_request_error', 'invalid_api_key');
    }
    const routes: Record<string, { method: string; run: () => Promise<void> }> = {
      '/v1/models': { method: 'GET', run: async () => sendJson(res, 200, await engine.models.list()) },
      '/v1/chat/completions': { method: 'POST', run: () => complete(req, res, 'chat') },
      '/v1/completions': { method: 'POST', run: () => complete(req, res, 'text') },
    };
    const r = routes[path];
    if (!r) throw new HttpError(404, `no route ${req.method} ${path}; this server has ${Object.keys(routes).join(', ')}`, 'invalid_request_error', 'not_found');
    if (req.method !== r.method) throw new HttpError(405, `${path} takes ${r.method}, not ${req.method}`);
    await r.run();
  }

  return createServer((req, res) => {
    route(req, res).catch((e: unknown) => {
      const err = toHttpError(e);
      if (err.status >= 500) console.error(`sparsescope serve: ${err.message}`);
      sendError(res, err);
    });
  });
}
