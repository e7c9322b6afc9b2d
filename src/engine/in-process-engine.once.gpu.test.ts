/**
 * The engine behind the Worker protocol, in-process: load with progress, streamed greedy generation
 * equal to the CPU reference, traces, the classroom step, and bad input that leaves the engine usable.
 * Run once, on lavapipe: this is protocol and scheduling code over WebGpuModel, whose numerics
 * webgpu-model.gpu.test.ts checks on every adapter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeGpu } from '../gpu/node/node-gpu.ts';
import { writeFixture, type Fixture } from '../tools/fixture/fixture.ts';
import { ReferenceModel } from '../model/reference/forward.ts';
import { weightsFromMap } from '../model/reference/weights.ts';
import { referenceGreedy } from '../model/reference/testing/llama-ref.ts';
import { createTokenizer } from '../model/tokenizer/index.ts';
import { chatOptionsFor, renderChatPrompt } from '../model/chat-template.ts';
import { openGguf } from '../gguf/reader.ts';
import { isSparseScopeError } from '../errors.ts';
import { InProcessEngine } from './in-process-engine.ts';
import type { GenerateEvent, LoadEvent } from '../api/protocol.ts';

let dir: string;
let path: string;
let fx: Fixture;
const engine = new InProcessEngine(() => nodeGpu());

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-engine-'));
  path = join(dir, 'm.gguf');
  fx = await writeFixture(path, { arch: 'deepseek32', gating: 'sigmoid', dims: { topK: 4 }, seed: 9 });
  await engine.init();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const greedy = { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, seed: 1 };

describe('InProcessEngine with a model', () => {
  it('loads with progress and streams the same greedy tokens as the CPU reference', async () => {
    const events: LoadEvent[] = [];
    const summary = await engine.load({ kind: 'path', path }, (e) => events.push(e));
    expect(summary.arch).toBe('deepseek32');
    expect(events[0].kind).toBe('header');
    const progress = events.filter((e) => e.kind === 'progress');
    expect(progress.length).toBeGreaterThan(5);
    expect(events.at(-1)!.kind).toBe('ready');

    const out: GenerateEvent[] = [];
    await engine.generate({ prompt: 'The experts', maxTokens: 10, sampling: greedy, trace: { indexer: true, dense: true, router: true } }, (e) => out.push(e));
    const tokens = out.filter((e) => e.kind === 'token' && e.id >= 0).map((e) => (e as { id: number }).id);
    const plain = Object.fromEntries(Object.entries(fx.metadata).map(([k, v]) => [k, v.value]));
    const prompt = createTokenizer(plain).encode('The experts', { addSpecial: true, parseSpecial: true });
    const want = referenceGreedy(new ReferenceModel(fx.config, weightsFromMap(fx.f32)), prompt, 10).filter((t, i, a) => !a.slice(0, i + 1).includes(fx.eos));
    expect(tokens).toEqual(want);
    const tok = out.find((e) => e.kind === 'token') as Extract<GenerateEvent, { kind: 'token' }>;
    expect(tok.trace!.layers[0].chosen!.length).toBeLessThanOrEqual(4);
    expect(out.at(-1)!.kind).toBe('done');
  });

  it('trace over a prompt and the classroom step (k ≥ context equals dense)', async () => {
    const tr = await engine.trace('sparse attention picks a few', { indexer: true }, 4);
    expect(tr.length).toBeGreaterThan(4);
    expect(tr.at(-1)!.layers[1].chosen).toHaveLength(4);
    const s = await engine.step({ prompt: 'sparse attention', indexTopK: 1000 });
    expect(s.klToDense).toBeLessThan(1e-9);
    expect(s.top1Agrees).toBe(true);
    const s1 = await engine.step({ prompt: 'sparse attention picks a few tokens', indexTopK: 1 });
    expect(s1.klToDense).toBeGreaterThan(0);
  });

  it('calls that arrive together (the classroom sends trace and step at once) give what they give alone', async () => {
    // The model's sessions share its caches, so overlapping calls must be queued, not interleaved; a prompt
    // of several prefill chunks makes unqueued calls interleave their passes (this fails without the queue).
    const prompt = Array.from({ length: 5 }, () => 'sparse attention picks a few of the keys').join(' ');
    const aloneTrace = await engine.trace(prompt, { indexer: true, dense: true }, 4);
    const aloneStep = await engine.step({ prompt, indexTopK: 4, candidates: 5 });
    const [trace, step, trace2] = await Promise.all([
      engine.trace(prompt, { indexer: true, dense: true }, 4),
      engine.step({ prompt, indexTopK: 4, candidates: 5 }),
      engine.trace(prompt, { indexer: true, dense: true }, 2),
    ]);
    expect(trace).toEqual(aloneTrace);
    expect(step).toEqual(aloneStep);
    expect(trace2.at(-1)!.layers[1].chosen).toHaveLength(2);
  });

  it('a corrupt file and an over-long prompt give typed errors and leave the model usable', async () => {
    const bad = join(dir, 'bad.gguf');
    writeFileSync(bad, 'this is not a gguf file at all');
    const err = await engine.load({ kind: 'path', path: bad }, () => {}).catch((e) => e);
    expect(isSparseScopeError(err) && err.code).toBe('not-gguf');
    const long = await engine.generate({ prompt: 'x'.repeat(10), maxTokens: 100000, sampling: greedy }, () => {}).catch((e) => e);
    expect(isSparseScopeError(long) && long.code).toBe('context-overflow');
    const again: GenerateEvent[] = [];
    await engine.generate({ prompt: 'The experts', maxTokens: 3, sampling: greedy }, (e) => again.push(e));
    expect(again.at(-1)!.kind).toBe('done');
  });

  it("a chat template that runs away: the reply streams in the family's format, as without a template, and the prefill event names the template error", async () => {
    const loop = join(dir, 'loop.gguf');
    await writeFixture(loop, {
      arch: 'deepseek32',
      gating: 'sigmoid',
      dims: { topK: 4 },
      seed: 9,
      metadata: { 'tokenizer.chat_template': { type: 'string', value: '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}' } },
    });
    const summary = await engine.load({ kind: 'path', path: loop }, () => {});
    // what the same conversation renders to when the file has no template at all
    const file = await openGguf({ kind: 'path', path: loop });
    const tok = createTokenizer(file.metadata);
    await file.close();
    const messages = [{ role: 'user' as const, content: 'Hi' }];
    const noTemplate = renderChatPrompt(undefined, messages, chatOptionsFor(tok, summary));
    expect(noTemplate.source).not.toBe('file');
    const out: GenerateEvent[] = [];
    await engine.generate({ messages, maxTokens: 3, sampling: greedy }, (e) => out.push(e));
    const prefill = out.find((e) => e.kind === 'prefill') as Extract<GenerateEvent, { kind: 'prefill' }>;
    expect(prefill.templateError?.code).toBe('template');
    expect(prefill.templateError?.message).toMatch(/chat template failed .*(steps|ms)/);
    expect(prefill.tokens!.map((t) => t.id)).toEqual(tok.encode(noTemplate.text, { addSpecial: false, parseSpecial: true }));
    expect(out.at(-1)!.kind).toBe('done');
    await engine.load({ kind: 'path', path }, () => {}); // back to the shared model for the other tests
  });
});
