/**
 * The dense families on the WebGPU engine (DenseForwardGraph) against llama.cpp, on the same shrunk twins
 * as the CPU engine's test (dense-twins.ts: real vocab and tokenizer, 2 layers), prompt prefilled and its
 * last 3 tokens decoded one by one: F32 within 1e-3 (max |Δ log-softmax|); Q4_K_M (llama.cpp's mix), with
 * the matmul inputs rounded as llama.cpp's CPU rounds them (the engine's default for these families), a
 * mean |Δ log-softmax| ≤ 0.08 with the same argmax wherever llama.cpp's top-2 gap is decisive; without the
 * rounding, within 1e-3 of the CPU reference with f32 activations (what the GPU then computes). Then greedy
 * generation through the engine equals llama.cpp's ids.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openGguf } from '../../gguf/reader.ts';
import { typeName } from '../../gguf/types.ts';
import { testGpu } from '../../gpu/testing/test-gpu.ts';
import { loadAnyReferenceModel } from '../../model/reference/load-any.ts';
import { llamaGreedy, llamaLogProbs, llamaSuite, logSoftmax } from '../../model/reference/testing/llama-ref.ts';
import { describeAgreement, renormalized, twinAgreement } from '../../model/reference/testing/twins.ts';
import { writeDenseFixture } from '../../tools/fixture/dense-fixture.ts';
import { denseTwinOptions } from '../../tools/fixture/dense-twins.ts';
import { ENGINE_DENSE_TWINS, denseTwinPrompt } from '../../model/reference/testing/dense-twin-cases.ts';
import { WebGpuModel } from './webgpu-model.ts';
import { webGpuGreedy } from './testing/greedy.ts';

const suite = llamaSuite('gpu-dense');
const CASES = ENGINE_DENSE_TWINS;

describe('dense twins through WebGpuModel = llama.cpp', () => {
  CASES.forEach(([label, name, shrink], k) => {
    it(`${label} (${name} ${shrink.mix ?? 'F32'})`, async () => {
      const path = join(suite.dir, `${name}-${k}.gguf`);
      const fx = await writeDenseFixture(path, denseTwinOptions(name, { seed: 300 + k, ...shrink }));
      const types = [...new Set(fx.tensors.map((t) => typeName(t.type)))].join(' ');
      const ll = await suite.llama.loadModel(path);
      const f = await openGguf({ kind: 'path', path });
      try {
        const tokens = await denseTwinPrompt(ll, fx.bos, fx.config.vocab);
        const { lp: theirs } = renormalized(await llamaLogProbs(ll, tokens));
        // the prompt in one prefill pass (tiled matmuls), then its last 3 tokens again one by one (decode matvecs)
        const run = async (roundActivations?: boolean) => {
          const model = await WebGpuModel.load(await testGpu(), f, { contextSize: 64, roundActivations });
          try {
            expect(model.config.arch).toBe(fx.config.arch);
            const prefill = (await model.session().feed(tokens, { allLogits: true })).logits;
            const s = model.session();
            await s.feed(tokens.slice(0, -3));
            const decoded = [];
            for (const t of tokens.slice(-3)) decoded.push(...(await s.feed([t])).logits);
            return [...prefill.slice(0, -3), ...decoded];
          } finally {
            model.destroy();
          }
        };
        const ours = await run();
        const a = twinAgreement(ours, theirs);
        console.log(`WebGpuModel dense ${label} (${types}): ${describeAgreement(a)}`);
        if (shrink.mix === undefined) {
          expect(a.maxAbs).toBeLessThanOrEqual(1e-3);
        } else {
          expect(a.meanAbs).toBeLessThanOrEqual(0.08);
          expect(a.decisive).toBeGreaterThan(0);
          expect(a.argmaxMismatch).toBe(0);
          const plain = await run(false);
          const ref = await loadAnyReferenceModel(f);
          const exact = twinAgreement(
            plain,
            ref.forward(tokens).logits.map((l) => logSoftmax(l)),
          );
          console.log(`WebGpuModel dense ${label}, f32 activations, vs the f32-activation CPU reference: ${describeAgreement(exact)}`);
          expect(exact.maxAbs).toBeLessThan(1e-3);
        }
      } finally {
        await f.close();
        await ll.dispose();
      }
    });
  });

  it("greedy decode on the GPU = llama.cpp's greedy ids (llama and qwen3, F32)", async () => {
    for (const [name, shrink] of [CASES[0], CASES[2]].map((c) => [c[1], c[2]] as const)) {
      const path = join(suite.dir, `${name}-greedy.gguf`);
      const fx = await writeDenseFixture(path, denseTwinOptions(name, { seed: 400, ...shrink }));
      const ll = await suite.llama.loadModel(path);
      const f = await openGguf({ kind: 'path', path });
      try {
        const prompt = [fx.bos, ...(await ll.tokenize('The cat sat on the'))];
        const want = await llamaGreedy(ll, prompt, 12);
        const model = await WebGpuModel.load(await testGpu(), f, { contextSize: 64 });
        try {
          const got = await webGpuGreedy(model, prompt, want.length);
          console.log(`WebGPU greedy ${name}: ${got.join(',')} (llama.cpp ${want.join(',')})`);
          expect(got).toEqual(want);
        } finally {
          model.destroy();
        }
      } finally {
        await f.close();
        await ll.dispose();
      }
    }
  });
});
