/**
 * The WebGPU engine against llama.cpp itself (node-llama-cpp 3.21.1, CPU, F32 KV cache, no flash
 * attention) on the F32 fixtures: log-softmax at every position within 1e-3, and 32-token greedy
 * continuations identical. llama.cpp's answers are the expectations.
 */
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { writeFixture, type FixtureOptions } from '../../tools/fixture/fixture.ts';
import { openGguf } from '../../gguf/reader.ts';
import { testGpu } from '../../gpu/testing/test-gpu.ts';
import { compareLogProbs, llamaSuite, llamaGreedy, llamaLogProbs } from '../../model/reference/testing/llama-ref.ts';
import { webGpuGreedy } from './testing/greedy.ts';
import { WebGpuModel } from './webgpu-model.ts';

const suite = llamaSuite('webgpu-llama');

const CASES: [string, FixtureOptions, number][] = [
  ['deepseek2 absorbed MLA', { arch: 'deepseek2', seed: 11 }, 40],
  ['deepseek2 legacy attn_kv_b', { arch: 'deepseek2', attn: 'legacy', seed: 12 }, 40],
  ['deepseek2 lite (no q_lora)', { arch: 'deepseek2', lite: true, seed: 13 }, 40],
  ['deepseek2 YaRN', { arch: 'deepseek2', yarn: true, seed: 14 }, 40],
  ['deepseek32 top-k 64 ≥ tokens', { arch: 'deepseek32', gating: 'sigmoid', dims: { topK: 64 }, seed: 18 }, 40],
  ['deepseek32 top-k 8 of 48 tokens', { arch: 'deepseek32', gating: 'sigmoid', dims: { topK: 8 }, seed: 19 }, 48],
];

describe('WebGPU engine = llama.cpp on F32 fixtures', () => {
  for (const [name, o, n] of CASES) {
    it(name, async () => {
      const path = join(suite.dir, `${name.replace(/\W+/g, '-')}.gguf`);
      const fx = await writeFixture(path, o);
      const ll = await suite.llama.loadModel(path);
      const file = await openGguf({ kind: 'path', path });
      const model = await WebGpuModel.load(await testGpu(), file, { contextSize: n + 40 });
      await file.close();
      try {
        const tokens = [fx.bos, ...Array.from({ length: n - 1 }, (_, i) => (i * 37 + 11) % (fx.config.vocab - 2))];
        const ours = (await model.session().feed(tokens, { allLogits: true })).logits;
        const cmp = compareLogProbs(ours, await llamaLogProbs(ll, tokens));
        console.log(`${name}: WebGPU vs llama.cpp max |Δ log-softmax| ${cmp.max.toExponential(2)}, mean ${cmp.mean.toExponential(2)}`);
        expect(cmp.max).toBeLessThan(1e-3);

        const prompt = tokens.slice(0, 8);
        const gen = await webGpuGreedy(model, prompt, 32);
        expect(gen).toEqual(await llamaGreedy(ll, prompt, 32));
      } finally {
        model.destroy();
        await ll.dispose();
      }
    });
  }
});
