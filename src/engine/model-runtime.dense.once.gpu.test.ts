/**
 * ModelRuntime on a dense (qwen3) file on lavapipe: `webgpu` forced runs it on DenseForwardGraph, whose
 * greedy tokens equal the f32 reference's, with per-layer dense attention weights in the trace; `auto`
 * measures both backends (a software adapter) and loads the faster, saying so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../gpu/testing/test-gpu.ts';
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
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-runtime-dense-gpu-'));
  path = join(dir, 'qwen3.gguf');
  fx = await writeDenseFixture(path, { arch: 'qwen3', seed: 12, dims: { embd: 64, layers: 2, heads: 4, headsKv: 2, headDim: 16, ffn: 128, context: 128 } });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GREEDY = { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, seed: 0 };

describe('ModelRuntime on a dense file, on the GPU', () => {
  it("webgpu forced: DenseForwardGraph's greedy = the reference's, traced with dense weights; auto picks the measured faster", async () => {
    const ctx = await testGpu();
    const rt = await ModelRuntime.loadChosen({ kind: 'path', path }, () => {}, { preference: 'webgpu', ctx, threads: 1, cache: memoryChoiceCache() });
    try {
      expect(rt.summary.backend).toBe('webgpu');
      expect(rt.summary.shape).toMatchObject({ family: 'dense', heads: 4, headsKv: 2 });
      const ref = new DenseTransformerReference(fx.config, weightsFromMap(fx.f32));
      const prompt = rt.tokenizer.encode('The cat', { addSpecial: true, parseSpecial: true });
      const all = referenceGreedy(ref, prompt, 5);
      const stop = all.findIndex((t) => rt.tokenizer.stopIds.has(t));
      const want = stop < 0 ? all : all.slice(0, stop);
      const events: GenerateEvent[] = [];
      await rt.generate({ prompt: 'The cat', maxTokens: 5, sampling: GREEDY, trace: { dense: true } }, (e) => events.push(e));
      expect(events.flatMap((e) => (e.kind === 'token' && e.id >= 0 ? [e.id] : []))).toEqual(want);
      const traced = events.flatMap((e) => (e.kind === 'token' && e.trace ? [e.trace] : []));
      expect(traced.length).toBeGreaterThan(0);
      for (const t of traced) {
        expect(t.layers).toHaveLength(2);
        for (const l of t.layers) {
          // softmax weights summed over the 4 heads, over positions 0..pos
          expect(l.denseWeights).toHaveLength(t.position + 1);
          expect(l.denseWeights!.reduce((a, b) => a + b, 0)).toBeCloseTo(4, 4);
        }
      }
    } finally {
      rt.destroy();
    }
    const auto = await ModelRuntime.loadChosen({ kind: 'path', path }, () => {}, { preference: 'auto', ctx, threads: 1, cache: memoryChoiceCache() });
    try {
      const c = auto.summary.backendChoice!;
      const faster = c.timing!.cpuMs < c.timing!.webgpuMs ? 'cpu' : 'webgpu';
      expect(auto.summary.backend).toBe(faster);
    } finally {
      auto.destroy();
    }
  });
});
