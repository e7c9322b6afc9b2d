// `sparsescope serve`'s HTTP layer over the CPU engine and the bundled model, through the official
// `openai` client (unchanged) and plain fetch: the client's replies are the engine's own, the queue
// answers 429 when full, bad requests get OpenAI-style 4xx errors, a client that leaves cancels its reply.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type SparseScopeEngine } from '../api/node.ts';
import { createApiServer } from './server.ts';

let engine: SparseScopeEngine;
let server: Server;
let base: string;
const outcomes: string[] = [];
const waiters: (() => void)[] = [];
let admitted = 0;
let onAdmitted: (() => void) | undefined;

beforeAll(async () => {
  engine = await createEngine({ backend: 'cpu' });
  await engine.load();
  server = createApiServer(engine, {
    maxQueue: 1,
    onAdmit: (n) => {
      admitted = n;
      onAdmitted?.();
    },
    onReplyEnd: (o) => {
      outcomes.push(o);
      waiters.splice(0).forEach((w) => w());
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const nextOutcome = () => new Promise<void>((resolve) => waiters.push(resolve)).then(() => outcomes.at(-1));
const post = (path: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(base + path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
const MESSAGES = [{ role: 'user' as const, content: 'In the beginning' }];

/** Opens a streaming request and waits for its first event, so it is running when this returns. */
async function runningStream(maxTokens: number): Promise<{ cancel: AbortController; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  const cancel = new AbortController();
  const res = await fetch(base + '/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: MESSAGES, max_tokens: maxTokens, stream: true }),
    signal: cancel.signal,
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  await reader.read();
  return { cancel, reader };
}

describe('sparsescope serve', () => {
  it('the openai client: models.list, a chat completion and a stream give the engine’s own text', async () => {
    const client = new OpenAI({ baseURL: base, apiKey: 'unused' });
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([engine.modelId]);
    const params = { model: engine.modelId, messages: MESSAGES, temperature: 0, max_tokens: 12 };
    const want = (await engine.chat.completions.create(params)).choices[0].message.content;
    const whole = await client.chat.completions.create(params);
    expect(whole.choices[0].message.content).toBe(want);
    expect(whole.usage?.completion_tokens).toBe(12);
    let streamed = '';
    for await (const c of await client.chat.completions.create({ ...params, stream: true })) streamed += c.choices[0]?.delta?.content ?? '';
    expect(streamed).toBe(want);
    const text = await client.completions.create({ model: engine.modelId, prompt: 'And God said', temperature: 0, max_tokens: 8 });
    expect(text.choices[0].text).toBe((await engine.completions.create({ prompt: 'And God said', temperature: 0, max_tokens: 8 })).choices[0].text);
  });

  it('bad requests: 400/404/405/415 with an OpenAI error body', async () => {
    const cases: [Promise<Response>, number, RegExp][] = [
      [post('/chat/completions', '{not json'), 400, /not valid JSON/],
      [post('/chat/completions', { messages: [] }), 400, /messages/],
      [post('/chat/completions', { messages: MESSAGES, temperature: -1 }), 400, /temperature/],
      [post('/chat/completions', { messages: [{ role: 'robot', content: 'x' }] }), 400, /role/],
      [post('/completions', { prompt: 42 }), 400, /prompt/],
      [post('/chat/completions', { model: 'gpt-4o', messages: MESSAGES }), 404, /does not exist/],
      [post('/chat/completions', { messages: MESSAGES }, { 'content-type': 'text/plain' }), 415, /application\/json/],
      [fetch(base + '/chat/completions'), 405, /POST/],
      [fetch(base + '/embeddings'), 404, /no route/],
    ];
    for (const [res, status, message] of cases) {
      const r = await res;
      expect(r.status).toBe(status);
      expect(r.headers.get('access-control-allow-origin')).toBe('*');
      const body = (await r.json()) as { error: { message: string; type: string } };
      expect(body.error.message).toMatch(message);
      expect(typeof body.error.type).toBe('string');
    }
  });

  it('CORS preflight allows the headers the browser asks for', async () => {
    const r = await fetch(base + '/chat/completions', {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, x-stainless-os',
      },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.headers.get('access-control-allow-headers')).toContain('x-stainless-os');
  });

  it('a full queue answers 429; a client that disconnects cancels its reply', async () => {
    // maxQueue 1: one running, one waiting, the third is refused.
    const running = await runningStream(engine.model!.contextLength - 64);
    const waitingCancel = new AbortController();
    const twoAdmitted = new Promise<void>((resolve) => (onAdmitted = () => admitted === 2 && resolve()));
    const waiting = fetch(base + '/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: MESSAGES, max_tokens: 4 }),
      signal: waitingCancel.signal,
    }).catch((e: unknown) => e);
    await twoAdmitted;
    const refused = await post('/chat/completions', { messages: MESSAGES, max_tokens: 4 });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { type: string } }).error.type).toBe('rate_limit_error');
    // The queued client leaves: its reply never runs.
    const queuedGone = nextOutcome();
    waitingCancel.abort();
    await waiting;
    expect(await queuedGone).toBe('cancelled');
    // The running client leaves: the engine stops at the next token (long before its max_tokens), and is free again.
    const runningGone = nextOutcome();
    running.cancel.abort();
    expect(await runningGone).toBe('cancelled');
    const after = await post('/completions', { prompt: 'And', max_tokens: 2, temperature: 0 });
    expect(after.status).toBe(200);
    expect(((await after.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(2);
  });
});
