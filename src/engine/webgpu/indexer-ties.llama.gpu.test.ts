/**
 * The WebGPU engine against llama.cpp on deepseek32 F32 fixtures whose index scores tie (exact zeros
 * from ReLU) at the top-k boundary: the top-k kernel must keep the tied positions llama.cpp keeps
 * (its std::partial_sort order, src/model/reference/indexer-topk.ts). Log-softmax within 1e-3 at every
 * position and 32-token greedy continuations identical; llama.cpp's answers are the expectations.
 */
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { writeFixture } from '../../tools/fixture/fixture.ts';
import { openGguf } from '../../gguf/reader.ts';
import { testGpu } from '../../gpu/testing/test-gpu.ts';
import { compareLogProbs, llamaSuite, llamaGreedy, llamaLogProbs } from '../../model/reference/testing/llama-ref.ts';
import { boundaryTies, TIE_CASES, tieTokens } from '../../model/reference/testing/indexer-ties.ts';
import { webGpuGreedy } from './testing/greedy.ts';
import { WebGpuModel } from './webgpu-model.ts';

const suite = llamaSuite('webgpu-ties');

describe('indexer ties at the top-k boundary: WebGPU engine = llama.cpp', () => {
  for (const { name, fixture, k, n } of TIE_CASES) {
    it(name, async () => {
      const path = join(suite.dir, `${name.replace(/\W+/g, '-')}.gguf`);
      const fx = await writeFixture(path, fixture);
      const ll = await suite.llama.loadModel(path);
      const file = await openGguf({ kind: 'path', path });
      const model = await WebGpuModel.load(await testGpu(), file, { contextSize: n + 40 });
      await file.close();
      try {
        const tokens = tieTokens(fx.bos, fx.config.vocab, n);
        const ours = (await model.session().feed(tokens, { allLogits: true })).logits;
        const ties = boundaryTies((await model.session({ trace: true }).feed(tokens)).trace ?? [], k);
        const cmp = compareLogProbs(ours, await llamaLogProbs(ll, tokens));

        const prompt = tokens.slice(0, 8);
        const gen = await webGpuGreedy(model, prompt, 32);
        const theirs = await llamaGreedy(ll, prompt, 32);
        console.log(
          `ties ${name}: ${ties} (query, layer) rows tie at the top-${k} boundary; WebGPU vs llama.cpp max |Δ log-softmax| ${cmp.max.toExponential(2)}, mean ${cmp.mean.toExponential(2)}; greedy 32: ${gen.every((t, i) => t === theirs[i]) ? 'identical' : 'DIFFERENT'}`,
        );
        expect(ties).toBeGreaterThan(0); // else the fixture no longer tests tie-breaking
        expect(cmp.max).toBeLessThan(1e-3);
        expect(gen).toEqual(theirs);
      } finally {
        model.destroy();
        await ll.dispose();
      }
    });
  }
});
