// The package's engine object on the CPU backend (the bundled model) against a naive greedy loop over the
// CPU reference forward: the OpenAI objects carry the reference's tokens, streams agree with whole
// replies, stop sequences cut where a plain search cuts, logprobs are the reference's log-softmax.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openGguf } from '../gguf/reader.ts';
import { createTokenizer, type Tokenizer } from '../model/tokenizer/index.ts';
import { loadReference, logSoftmax, referenceGreedy } from '../model/reference/testing/llama-ref.ts';
import type { ReferenceModel } from '../model/reference/forward.ts';
import { createEngine, type SparseScopeEngine } from './node.ts';

const MODEL = join(import.meta.dirname, '../../public/models/sparsescope-kjv-5m-q8_0.gguf');
const PROMPT = 'And God said';
let engine: SparseScopeEngine;
let ref: ReferenceModel;
let tok: Tokenizer;

beforeAll(async () => {
  engine = await createEngine({ backend: 'cpu' });
  await engine.load();
  ref = (await loadReference(MODEL)).model;
  const f = await openGguf({ kind: 'path', path: MODEL });
  tok = createTokenizer(f.metadata);
  await f.close();
});

/** The reference's greedy reply to a raw prompt, as text, stopping at a stop id like the engine. */
function referenceReply(n: number): { ids: number[]; text: string } {
  const prompt = tok.encode(PROMPT, { addSpecial: true, parseSpecial: true });
  const ids = referenceGreedy(ref, prompt, n);
  const end = ids.findIndex((t) => tok.stopIds.has(t));
  const kept = end < 0 ? ids : ids.slice(0, end);
  return { ids: kept, text: tok.decode(kept) };
}

describe('createEngine({ backend: "cpu" })', () => {
  it('completions.create at temperature 0 is the reference greedy text, with usage and finish_reason', async () => {
    const want = referenceReply(24);
    const r = await engine.completions.create({ prompt: PROMPT, temperature: 0, max_tokens: 24 });
    expect(r.object).toBe('text_completion');
    expect(r.choices[0].text).toBe(want.text);
    expect(r.choices[0].finish_reason).toBe(want.ids.length === 24 ? 'length' : 'stop');
    expect(r.usage!.completion_tokens).toBe(want.ids.length);
    expect(r.usage!.prompt_tokens).toBe(tok.encode(PROMPT, { addSpecial: true, parseSpecial: true }).length);
    expect(r.model).toBe(engine.modelId);
  });

  it('a streamed chat reply is the whole reply, chunk by chunk, under one id', async () => {
    const params = { messages: [{ role: 'user' as const, content: 'In the beginning' }], temperature: 0, max_tokens: 16 };
    const whole = await engine.chat.completions.create(params);
    const stream = await engine.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(whole.choices[0].message.content);
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe(whole.choices[0].finish_reason);
    expect(chunks.at(-1)!.usage).toEqual(whole.usage);
  });

  it('stop: the reply ends before the first stop sequence, finish_reason stop', async () => {
    const full = referenceReply(40).text;
    // A stop sequence taken from the middle of the reference reply (it spans token boundaries in general).
    const stop = full.slice(10, 13);
    const r = await engine.completions.create({ prompt: PROMPT, temperature: 0, max_tokens: 40, stop: [stop] });
    expect(r.choices[0].text).toBe(full.slice(0, full.indexOf(stop)));
    expect(r.choices[0].finish_reason).toBe('stop');
  });

  it("logprobs: each token's log-probability and top alternatives are the reference log-softmax", async () => {
    const prompt = tok.encode(PROMPT, { addSpecial: true, parseSpecial: true });
    const r = await engine.completions.create({ prompt: PROMPT, temperature: 0, max_tokens: 4, logprobs: 3 });
    const want = referenceGreedy(ref, prompt, 4);
    const logits = ref.forward([...prompt, ...want.slice(0, 3)]).logits.slice(prompt.length - 1);
    const lp = r.choices[0].logprobs!;
    expect(lp.tokens).toEqual(want.map((t) => tok.decode([t], { special: true })));
    lp.token_logprobs.forEach((v, i) => {
      const ls = logSoftmax(logits[i]);
      expect(v).toBeCloseTo(ls[want[i]], 5);
      const top = Array.from(ls.keys())
        .sort((a, b) => ls[b] - ls[a])
        .slice(0, 3);
      expect(Object.values(lp.top_logprobs[i])[0]).toBeCloseTo(ls[top[0]], 5);
    });
  });

  it('an aborted signal cancels a queued request without disturbing the running one', async () => {
    const first = engine.completions.create({ prompt: PROMPT, temperature: 0, max_tokens: 12 });
    const cancel = new AbortController();
    const second = engine.completions.create({ prompt: PROMPT, temperature: 0, max_tokens: 12 }, { signal: cancel.signal });
    cancel.abort();
    await expect(second).rejects.toMatchObject({ code: 'aborted' });
    expect((await first).choices[0].text).toBe(referenceReply(12).text);
  });

  it('load() takes a path, a Blob, or [Blob]: the same model, the same reply', async () => {
    const want = (await engine.completions.create({ prompt: PROMPT, temperature: 0, max_tokens: 6 })).choices[0].text;
    const bytes = readFileSync(MODEL);
    for (const source of [MODEL, new Blob([bytes]), [new File([bytes], 'sparsescope.gguf')]]) {
      const other = await createEngine({ backend: 'cpu' });
      await other.load(source);
      expect((await other.completions.create({ prompt: PROMPT, temperature: 0, max_tokens: 6 })).choices[0].text).toBe(want);
    }
    await expect((await createEngine({ backend: 'cpu' })).load(42 as unknown as string)).rejects.toMatchObject({ code: 'bad-argument' });
  });

  it('bad requests are typed bad-argument errors', async () => {
    await expect(engine.chat.completions.create({ messages: [] })).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(engine.completions.create({ prompt: PROMPT, temperature: 3 })).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(createEngine({ backend: 'tpu' as 'cpu' })).rejects.toMatchObject({ code: 'bad-argument' });
  });
});
