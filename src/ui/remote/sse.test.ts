// The SSE client against a recorded OpenAI chat stream (testing/recorded-chat-stream.sse: keep-alive
// comments, an event: line, multi-byte UTF-8, usage, [DONE]), delivered
// whole, split at every byte, and with CRLF line ends; and RemoteEngine turning it into token events.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sseData } from './sse.ts';
import { RemoteEngine } from './remote-engine.ts';
import type { GenerateEvent } from '../../api/protocol.ts';

const RECORDED = readFileSync(join(import.meta.dirname, 'testing/recorded-chat-stream.sse'));

/** A body delivering `bytes` in reads cut at `cuts`. */
function body(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const edges = [0, ...cuts, bytes.length];
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i + 1 < edges.length) c.enqueue(bytes.slice(edges[i], edges[++i]));
      else c.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const d of sseData(stream)) out.push(d);
  return out;
}

// What the fixture holds, by reading it line by line the plain way (blank line = end of event).
const expected = RECORDED.toString('utf8')
  .split('\n\n')
  .map((ev) =>
    ev
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.slice(6))
      .join('\n'),
  )
  .filter((d) => d.length > 0);

afterEach(() => vi.unstubAllGlobals());

describe('sseData', () => {
  it('reads the recorded stream whole', async () => {
    expect(await collect(body(RECORDED, []))).toEqual(expected);
    expect(expected.at(-1)).toBe('[DONE]');
  });

  it('reads it split across reads at every byte (inside lines, inside UTF-8 characters)', async () => {
    for (let cut = 1; cut < RECORDED.length; cut += 7) expect(await collect(body(RECORDED, [cut]))).toEqual(expected);
    const everyByte = Array.from({ length: RECORDED.length - 1 }, (_, i) => i + 1);
    expect(await collect(body(RECORDED, everyByte))).toEqual(expected);
  });

  it('reads CRLF line ends, split between \\r and \\n', async () => {
    const crlf = new Uint8Array(Buffer.from(RECORDED.toString('utf8').replace(/\n/g, '\r\n')));
    const crAt = crlf.indexOf(13) + 1;
    expect(await collect(body(crlf, [crAt]))).toEqual(expected);
  });
});

describe('RemoteEngine', () => {
  it('streams the recorded reply as token events, then done with the server’s usage count', async () => {
    const fetchMock = vi.fn(async (_url: string, init: RequestInit) => {
      void _url;
      expect(JSON.parse(init.body as string)).toMatchObject({ model: 'deepseek-v3.2', stream: true, max_tokens: 16 });
      return new Response(body(RECORDED, [100, 101, 333]), { status: 200, headers: { 'content-type': 'text/event-stream' } });
    });
    vi.stubGlobal('fetch', fetchMock);
    const engine = new RemoteEngine({ baseUrl: 'http://127.0.0.1:9/v1/', model: 'deepseek-v3.2', apiKey: 'k' });
    const events: GenerateEvent[] = [];
    await engine.generate(
      { messages: [{ role: 'user', content: 'hi' }], maxTokens: 16, sampling: { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, seed: 1 } },
      (e) => events.push(e),
    );
    expect(fetchMock.mock.calls[0][0]).toBe('http://127.0.0.1:9/v1/chat/completions');
    expect((fetchMock.mock.calls[0][1].headers as Record<string, string>).authorization).toBe('Bearer k');
    const deltas = expected
      .filter((d) => d !== '[DONE]')
      .map((d) => JSON.parse(d).choices[0]?.delta?.content ?? '')
      .filter(Boolean);
    expect(events.filter((e) => e.kind === 'token').map((e) => (e as { text: string }).text)).toEqual(deltas);
    const done = events.at(-1)!;
    expect(done).toMatchObject({ kind: 'done', reason: 'max-tokens', tokens: 7 });
  });

  it('a server error body becomes a typed error with the server’s message', async () => {
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ error: { message: 'model not found' } }), { status: 404 }));
    const engine = new RemoteEngine({ baseUrl: 'http://127.0.0.1:9/v1', model: 'x' });
    await expect(engine.listModels()).rejects.toMatchObject({ code: 'bad-argument', message: expect.stringContaining('model not found') });
  });
});
