/**
 * ModelRuntime on a dense (qwen3) file, without a GPU: `auto` loads it on the CPU and says why;
 * `webgpu` forced is refused with a typed error naming the CPU backend; the summary carries a dense
 * shape (GQA cache sizes), no indexer top-k; generate at temperature 0 is the f32 reference's greedy,
 * and with oracleTopK ≥ tokens the same tokens, traced with the oracle's picks. (On a GPU:
 * model-runtime.dense.once.gpu.test.ts.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSparseScopeError } from '../errors.ts';
import { DenseTransformerReference } from '../model/reference/parts/dense-transformer.ts';
import { weightsFromMap } from '../model/reference/weights.ts';
import { referenceGreedy } from '../model/reference/testing/llama-ref.ts';
import { writeDenseFixture, type DenseFixture } from '../tools/fixture/dense-fixture.ts';
import type { GenerateEvent } from '../api/protocol.ts';
import { memoryChoiceCache } from './backend-choice-cache.ts';
import { ModelRuntime } from './model-runtime.ts';

let dir: string;
let path: string;
let fx: DenseFixture;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-runtime-dense-'));
  path = join(dir, 'qwen3.gguf');
  fx = await writeDenseFixture(path, { arch: 'qwen3', seed: 12, dims: { embd: 64, layers: 2, heads: 4, headsKv: 2, headDim: 16, ffn: 128, context: 128 } });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function generate(rt: ModelRuntime, o: { oracleTopK?: number } = {}): Promise<{ ids: number[]; events: GenerateEvent[] }> {
  const events: GenerateEvent[] = [];
  await rt.generate(
    { prompt: 'The cat', maxTokens: 5, sampling: { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, seed: 0 }, trace: { dense: true }, ...o },
    (e) => events.push(e),
  );
  return { ids: events.flatMap((e) => (e.kind === 'token' && e.id >= 0 ? [e.id] : [])), events };
}

describe('ModelRuntime on a dense file', () => {
  it('auto without an adapter: the CPU, saying why; webgpu forced: a typed refusal', async () => {
    const rt = await ModelRuntime.loadChosen({ kind: 'path', path }, () => {}, {
      preference: 'auto',
      gpuMissing: 'no adapter in this test',
      threads: 1,
      cache: memoryChoiceCache(),
    });
    try {
      expect(rt.summary.backend).toBe('cpu');
      expect(rt.summary.backendChoice?.reason).toMatch(/no adapter in this test/);
      expect(rt.summary.shape).toMatchObject({ family: 'dense', heads: 4, headsKv: 2, headDim: 16, layers: 2 });
      expect(rt.summary.indexTopK).toBeUndefined();
    } finally {
      rt.destroy();
    }
    let err: unknown;
    try {
      await ModelRuntime.loadChosen({ kind: 'path', path }, () => {}, {
        preference: 'webgpu',
        gpuMissing: 'no adapter in this test',
        threads: 1,
        cache: memoryChoiceCache(),
      });
    } catch (e) {
      err = e;
    }
    expect(isSparseScopeError(err)).toBe(true);
    expect((err as Error).message).toMatch(/no adapter in this test; choose the CPU backend/);
  });

  it('generate at temperature 0 = the reference greedy; oracleTopK ≥ tokens the same, traced with its picks', async () => {
    const rt = await ModelRuntime.loadCpu({ kind: 'path', path }, () => {});
    try {
      const ref = new DenseTransformerReference(fx.config, weightsFromMap(fx.f32));
      const prompt = rt.tokenizer.encode('The cat', { addSpecial: true, parseSpecial: true });
      const all = referenceGreedy(ref, prompt, 5);
      const stop = all.findIndex((t) => rt.tokenizer.stopIds.has(t));
      const want = stop < 0 ? all : all.slice(0, stop);
      expect((await generate(rt)).ids).toEqual(want);
      const o = await generate(rt, { oracleTopK: 64 });
      expect(o.ids).toEqual(want);
      const traced = o.events.flatMap((e) => (e.kind === 'token' && e.trace ? [e.trace] : []));
      expect(traced.length).toBeGreaterThan(0);
      for (const t of traced) for (const l of t.layers) expect(l.oracle).toEqual(Array.from({ length: t.position + 1 }, (_, i) => i));
    } finally {
      rt.destroy();
    }
  });
});
