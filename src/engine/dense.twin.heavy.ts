/**
 * Heavy suite (npm run test:heavy): the dense families at their released size — a Llama-3.2-1B-shaped and a
 * Qwen3-0.6B-shaped GGUF (every layer at full width, tied output, the real tokenizers and vocabularies,
 * llama.cpp's Q4_K_M mix; random weights) — on both engines against llama.cpp: CpuModel (2 threads) and
 * WebGpuModel (lavapipe), each with its default activation rounding, mean |Δ log-softmax| ≤ 0.08 and the
 * same argmax wherever llama.cpp's top-2 gap exceeds 0.25 nats. Logs sizes, times and peak RSS.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openGguf } from '../gguf/reader.ts';
import { testGpu } from '../gpu/testing/test-gpu.ts';
import { llamaLogProbs, llamaSuite } from '../model/reference/testing/llama-ref.ts';
import { describeAgreement, renormalized, twinAgreement } from '../model/reference/testing/twins.ts';
import { denseTwinPrompt } from '../model/reference/testing/dense-twin-cases.ts';
import { peakRssGiB } from '../model/reference/testing/heavy-twins.ts';
import { writeDenseFixture } from '../tools/fixture/dense-fixture.ts';
import { denseTwinOptions, type DenseTwinName } from '../tools/fixture/dense-twins.ts';
import { CpuModel } from './cpu/cpu-model.ts';
import { WebGpuModel } from './webgpu/webgpu-model.ts';

const suite = llamaSuite('dense-heavy');
const TWINS: DenseTwinName[] = ['llama-3.2-1b', 'qwen3-0.6b'];

describe('full-size dense twins (Q4_K_M): both engines = llama.cpp', () => {
  for (const name of TWINS) {
    it(name, async () => {
      const path = join(suite.dir, `${name}-q4_k_m.gguf`);
      let t = performance.now();
      const fx = await writeDenseFixture(path, denseTwinOptions(name, { mix: 'Q4_K_M', seed: 500 }));
      const written = (performance.now() - t) / 1000;
      const ll = await suite.llama.loadModel(path);
      const tokens = await denseTwinPrompt(ll, fx.bos, fx.config.vocab);
      const { lp: theirs } = renormalized(await llamaLogProbs(ll, tokens));
      await ll.dispose();
      const f = await openGguf({ kind: 'path', path });
      try {
        const engines: [string, () => Promise<{ logits: Float32Array[]; close(): void }>][] = [
          [
            'CpuModel',
            async () => {
              const m = await CpuModel.load(f, { threads: 2, contextSize: 64 });
              return { logits: (await m.session().feed(tokens, { allLogits: true })).logits, close: () => m.destroy() };
            },
          ],
          [
            'WebGpuModel',
            async () => {
              const m = await WebGpuModel.load(await testGpu(), f, { contextSize: 64 });
              return { logits: (await m.session().feed(tokens, { allLogits: true })).logits, close: () => m.destroy() };
            },
          ],
        ];
        for (const [engine, run] of engines) {
          t = performance.now();
          const r = await run();
          try {
            const a = twinAgreement(r.logits, theirs);
            console.log(
              `heavy dense ${name} Q4_K_M on ${engine}: ${(statSync(path).size / 2 ** 20).toFixed(1)} MiB, ${fx.config.layers} layers, ${tokens.length} tokens; ${describeAgreement(a)}; ` +
                `written in ${written.toFixed(0)} s, load + forward ${((performance.now() - t) / 1000).toFixed(0)} s; peak RSS ${peakRssGiB()} GiB`,
            );
            expect(a.meanAbs).toBeLessThanOrEqual(0.08);
            expect(a.decisive).toBeGreaterThan(0);
            expect(a.argmaxMismatch).toBe(0);
          } finally {
            r.close();
          }
        }
      } finally {
        await f.close();
      }
    });
  }
});
