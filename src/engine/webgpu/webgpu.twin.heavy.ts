/**
 * Heavy suite (npm run test:heavy): full-size twins (model/reference/testing/heavy-twins.ts) on the
 * WebGPU engine against llama.cpp, with the default suite's criteria: F32 within 1e-3; quantized
 * files a mean |Δ log-softmax| under 0.15 and the same argmax wherever llama.cpp's top-2 gap > 0.25.
 * Logs the file size, times and this process's peak RSS (not asserted).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { openGguf } from '../../gguf/reader.ts';
import { testGpu } from '../../gpu/testing/test-gpu.ts';
import { llamaLogProbs, llamaSuite } from '../../model/reference/testing/llama-ref.ts';
import { describeAgreement, twinAgreement, twinPrompt } from '../../model/reference/testing/twins.ts';
import { peakRssGiB, selectedHeavyTwins, writeHeavyTwin } from '../../model/reference/testing/heavy-twins.ts';
import { WebGpuModel } from './webgpu-model.ts';

const suite = llamaSuite('twin-heavy-webgpu');

describe('full-size twins: WebGPU = llama.cpp', () => {
  for (const t of selectedHeavyTwins()) {
    it(t.label, async () => {
      const path = join(suite.dir, `${t.label}.gguf`);
      const w = await writeHeavyTwin(t, path);
      const tokens = twinPrompt(w.bos, w.vocab, 16);
      const t0 = performance.now();
      const ll = await suite.llama.loadModel(path);
      const theirs = await llamaLogProbs(ll, tokens);
      await ll.dispose();
      const t1 = performance.now();
      const file = await openGguf({ kind: 'path', path });
      const model = await WebGpuModel.load(await testGpu(), file, { contextSize: 64 });
      await file.close();
      const t2 = performance.now();
      try {
        const ours = (await model.session().feed(tokens, { allLogits: true })).logits;
        const t3 = performance.now();
        const a = twinAgreement(ours, theirs);
        console.log(
          `heavy WebGPU twin ${t.label}: ${(statSync(path).size / 2 ** 30).toFixed(2)} GiB, ${w.layers} layers, ${w.vocab} vocab (${w.types}); ${describeAgreement(a)}; ` +
            `written in ${w.seconds.toFixed(0)} s, llama.cpp ${((t1 - t0) / 1000).toFixed(0)} s, WebGPU load ${((t2 - t1) / 1000).toFixed(0)} s + ${tokens.length} tokens ${((t3 - t2) / 1000).toFixed(0)} s; peak RSS of this process ${peakRssGiB()} GiB`,
        );
        if (t.shrink.mix === undefined) {
          expect(a.maxAbs).toBeLessThan(1e-3);
        } else {
          expect(a.meanAbs).toBeLessThan(0.15);
          expect(a.decisive).toBeGreaterThan(0);
          expect(a.argmaxMismatch).toBe(0);
        }
      } finally {
        model.destroy();
      }
    });
  }
});
