/**
 * The WebGPU engine on small real-shape twins (model/reference/testing/twins.ts) against llama.cpp,
 * once on lavapipe (gpu-once project). F32 files within 1e-3; quantized files (our f32 activations
 * against llama.cpp's quantized ones) to a mean |Δ log-softmax| under 0.15 with the same argmax
 * wherever llama.cpp's top-2 gap exceeds 0.25. Full-size twins: webgpu.twin.heavy.ts.
 */
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { writeFixture } from '../../tools/fixture/fixture.ts';
import { twinOptions } from '../../tools/fixture/twins.ts';
import { openGguf } from '../../gguf/reader.ts';
import { typeName } from '../../gguf/types.ts';
import { testGpu } from '../../gpu/testing/test-gpu.ts';
import { llamaLogProbs, llamaSuite } from '../../model/reference/testing/llama-ref.ts';
import { SMALL_TWINS, describeAgreement, twinAgreement, twinPrompt } from '../../model/reference/testing/twins.ts';
import { WebGpuModel } from './webgpu-model.ts';

const suite = llamaSuite('twin-webgpu');

// one F32 file, a 27-layer lite Q4_K_M and the V3.2 indexer with 8 experts: the rest is the same engine
const CASES = SMALL_TWINS.filter(([name, s]) => (name === 'youtu-llm-2b' && s.mix === undefined) || name === 'deepseek-v2-lite-chat' || name === 'deepseek-v3.2');

describe('small real-shape twins: WebGPU = llama.cpp', () => {
  CASES.forEach(([name, shrink], k) => {
    it(`${name} ${shrink.mix ?? 'F32'}`, async () => {
      const path = join(suite.dir, `${name}-${k}.gguf`);
      const fx = await writeFixture(path, twinOptions(name, { seed: 200 + k, ...shrink }));
      const types = [...new Set(fx.tensors.map((t) => typeName(t.type)))].join(' ');
      const tokens = twinPrompt(fx.bos, fx.config.vocab, 20);
      const ll = await suite.llama.loadModel(path);
      const file = await openGguf({ kind: 'path', path });
      const model = await WebGpuModel.load(await testGpu(), file, { contextSize: 64 });
      await file.close();
      try {
        const ours = (await model.session().feed(tokens, { allLogits: true })).logits;
        const a = twinAgreement(ours, await llamaLogProbs(ll, tokens));
        console.log(`WebGPU twin ${name} ${shrink.mix ?? 'F32'} (${fx.config.layers} layers, ${types}): ${describeAgreement(a)}`);
        if (shrink.mix === undefined) {
          expect(a.maxAbs).toBeLessThan(1e-3);
        } else {
          expect(a.meanAbs).toBeLessThan(0.15);
          expect(a.decisive).toBeGreaterThan(0);
          expect(a.argmaxMismatch).toBe(0);
        }
      } finally {
        model.destroy();
        await ll.dispose();
      }
    });
  });
});
