/**
 * The shipped model (public/models) on the WebGPU engine against llama.cpp on the same file: three
 * prompts' greedy 32-token continuations, sampled on the GPU as the page does, are identical; on more
 * prompts, any departure is a near-tie explained by the measured log-prob difference
 * (src/model/reference/testing/bundled-greedy.ts).
 */
import type { Llama, LlamaModel } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGguf } from '../../gguf/reader.ts';
import { testGpu } from '../../gpu/testing/test-gpu.ts';
import { samplerSettings } from '../../gpu/shaders/sampling/sampling.ts';
import type { Tokenizer } from '../../model/tokenizer/index.ts';
import { createLlama } from '../../model/reference/testing/llama-ref.ts';
import { BUNDLED_MODEL, EXACT_PROMPTS, MORE_PROMPTS, NEAR_TIE, bundledTokenizer, compareGreedy, describeComparison, type GreedyBackend } from '../../model/reference/testing/bundled-greedy.ts';
import { WebGpuModel } from './webgpu-model.ts';

let llama: Llama;
let ll: LlamaModel;
let tok: Tokenizer;
let model: WebGpuModel;
let gpu: GreedyBackend;

beforeAll(async () => {
  llama = await createLlama();
  ll = await llama.loadModel({ modelPath: BUNDLED_MODEL });
  tok = await bundledTokenizer();
  const file = await openGguf({ kind: 'path', path: BUNDLED_MODEL });
  try {
    model = await WebGpuModel.load(await testGpu(), file, { contextSize: 128 });
  } finally {
    await file.close();
  }
  const settings = samplerSettings({ temperature: 0 });
  gpu = {
    greedy: async (prompt, n) => {
      const s = model.session();
      const history = [...prompt];
      let r = await s.feedAndSample(prompt, { settings, history, step: 0 });
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        out.push(r.token);
        history.push(r.token);
        if (i + 1 < n) r = await s.feedAndSample([r.token], { settings, history, step: i + 1 });
      }
      return out;
    },
    logits: async (tokens) => (await model.session().feed(tokens, { allLogits: true })).logits,
  };
});
afterAll(async () => {
  model?.destroy();
  await ll?.dispose();
  await llama?.dispose();
});

describe('the bundled model on WebGPU = llama.cpp', () => {
  for (const prompt of EXACT_PROMPTS) {
    it(`"${prompt}": the greedy continuation is identical`, async () => {
      const c = await compareGreedy(ll, tok, gpu, prompt);
      console.log(describeComparison(c, 'WebGPU'));
      expect(c.ours).toEqual(c.theirs);
    });
  }
  it('more prompts: any departure is at a near-tie the log-prob difference explains', async () => {
    for (const prompt of MORE_PROMPTS) {
      const c = await compareGreedy(ll, tok, gpu, prompt);
      console.log(describeComparison(c, 'WebGPU'));
      if (c.firstDiff < 0) continue;
      expect(c.gap!).toBeLessThan(NEAR_TIE);
      expect(c.gap!).toBeLessThanOrEqual(2 * c.deltaThere!);
    }
  });
});
