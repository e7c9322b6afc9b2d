/**
 * Small twins of real models (src/tools/fixture/twins.ts: the released configs' metadata, tensor
 * names and head shapes, llama.cpp's Q4_K_M / Q2_K mixes as random blocks; layers, experts, vocab and
 * widths reduced so each file is tens of MB) through the CPU reference against llama.cpp. F32 files
 * agree within 1e-3; quantized files, with llama.cpp's activation quantization emulated, to a mean
 * |Δ log-softmax| under 0.15 with the same argmax wherever llama.cpp's top-2 gap exceeds 0.25.
 * The full-size twins are in reference.twin.heavy.ts (npm run test:heavy).
 */
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { writeFixture } from '../../tools/fixture/fixture.ts';
import { twinOptions } from '../../tools/fixture/twins.ts';
import { typeName } from '../../gguf/types.ts';
import { llamaLogProbs, llamaSuite, loadReference } from './testing/llama-ref.ts';
import { SMALL_TWINS, describeAgreement, twinAgreement, twinPrompt } from './testing/twins.ts';

const suite = llamaSuite('twin-ref');

describe('small real-shape twins: CPU reference = llama.cpp', () => {
  SMALL_TWINS.forEach(([name, shrink], k) => {
    it(`${name} ${shrink.mix ?? 'F32'}`, async () => {
      const path = join(suite.dir, `${name}-${k}.gguf`);
      const fx = await writeFixture(path, twinOptions(name, { seed: 100 + k, ...shrink }));
      const types = [...new Set(fx.tensors.map((t) => typeName(t.type)))].join(' ');
      const ll = await suite.llama.loadModel(path);
      try {
        const tokens = twinPrompt(fx.bos, fx.config.vocab, 20);
        const theirs = await llamaLogProbs(ll, tokens);
        const { model } = await loadReference(path, { emulateActivationQuant: shrink.mix !== undefined });
        const a = twinAgreement(model.forward(tokens).logits, theirs);
        console.log(`twin ${name} ${shrink.mix ?? 'F32'} (${fx.config.layers} layers, ${types}): ${describeAgreement(a)}`);
        if (shrink.mix === undefined) {
          expect(a.maxAbs).toBeLessThan(1e-3);
        } else {
          expect(a.meanAbs).toBeLessThan(0.15);
          expect(a.decisive).toBeGreaterThan(0);
          expect(a.argmaxMismatch).toBe(0);
        }
      } finally {
        await ll.dispose();
      }
    });
  });
});
