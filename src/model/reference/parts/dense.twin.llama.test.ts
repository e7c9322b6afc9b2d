/**
 * The dense families on the CPU reference (DenseTransformerReference, via loadAnyReferenceModel)
 * against llama.cpp, on shrunk twins of Llama-3.2-1B, Qwen3-0.6B and Qwen2.5-0.5B (dense-twins.ts:
 * real tokenizers and vocab sizes, the released head dims, 2 layers, narrow bodies). The prompt is
 * llama.cpp's own tokenization of a multilingual chat line through the file's real vocabulary, then a
 * walk over the whole id range. F32 files: max |Δ log-softmax| ≤ 1e-4 and llama.cpp's 12-token greedy
 * continuation (its decode path). Q4_K_M files (llama.cpp's mix,
 * activation quantization emulated): mean ≤ 0.08, the same argmax wherever llama.cpp's top-2 gap
 * exceeds 0.25 nats.
 */
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { openGguf } from '../../../gguf/reader.ts';
import { typeName } from '../../../gguf/types.ts';
import { writeDenseFixture } from '../../../tools/fixture/dense-fixture.ts';
import { denseTwinOptions, type DenseTwinName, type DenseTwinShrink } from '../../../tools/fixture/dense-twins.ts';
import { loadAnyReferenceModel } from '../load-any.ts';
import { llamaGreedy, llamaLogProbs, llamaSuite, referenceGreedy } from '../testing/llama-ref.ts';
import { describeAgreement, renormalized, twinAgreement } from '../testing/twins.ts';
import { SHORT_LLAMA3, denseTwinPrompt } from '../testing/dense-twin-cases.ts';
import { DenseTransformerReference } from './dense-transformer.ts';

const suite = llamaSuite('dense-twin');

const CASES: [string, DenseTwinName, DenseTwinShrink][] = [
  // GQA 4 / 2, head_dim 64, normal rope with rope_freqs
  ['llama rope_freqs, GQA', 'llama-3.2-1b', { layers: 2, dims: { embd: 64, heads: 4, headsKv: 2, ffn: 256 }, options: { ropeFreqs: SHORT_LLAMA3 } }],
  ['llama without rope_freqs, MHA', 'llama-3.2-1b', { layers: 2, dims: { embd: 64, heads: 2, headsKv: 2, ffn: 256 }, options: { ropeFreqs: undefined } }],
  // q/k/v biases, neox rope, heads · head_dim = embd, GQA 2 / 1
  ['qwen2 q/k/v biases, GQA', 'qwen2.5-0.5b', { layers: 2, dims: { embd: 128, heads: 2, headsKv: 1, ffn: 256 } }],
  // QK-norm, head_dim 128 with heads · head_dim ≠ embd, GQA 4 / 2
  ['qwen3 QK-norm, GQA', 'qwen3-0.6b', { layers: 2, dims: { embd: 64, heads: 4, headsKv: 2, ffn: 256 } }],
  // llama.cpp's Q4_K_M mix: tied token_embd Q6_K, attn_v / ffn_down Q6_K by use_more_bits
  [
    'llama Q4_K_M, GQA 4',
    'llama-3.2-1b',
    { layers: 2, mix: 'Q4_K_M', dims: { embd: 256, heads: 4, headsKv: 1, ffn: 512 }, options: { ropeFreqs: SHORT_LLAMA3 } },
  ],
  ['qwen3 Q4_K_M, GQA', 'qwen3-0.6b', { layers: 2, mix: 'Q4_K_M', dims: { embd: 256, heads: 2, headsKv: 1, ffn: 512 } }],
];

describe('dense twins: CPU reference = llama.cpp', () => {
  CASES.forEach(([label, name, shrink], k) => {
    it(`${label} (${name} ${shrink.mix ?? 'F32'})`, async () => {
      const path = join(suite.dir, `${name}-${k}.gguf`);
      const fx = await writeDenseFixture(path, denseTwinOptions(name, { seed: 200 + k, ...shrink }));
      const types = [...new Set(fx.tensors.map((t) => typeName(t.type)))].join(' ');
      const ll = await suite.llama.loadModel(path);
      try {
        const tokens = await denseTwinPrompt(ll, fx.bos, fx.config.vocab);
        const raw = await llamaLogProbs(ll, tokens);
        const { lp: theirs, maxShift } = renormalized(raw);
        const f = await openGguf({ kind: 'path', path });
        let model;
        try {
          model = await loadAnyReferenceModel(f, { emulateActivationQuant: shrink.mix !== undefined });
        } finally {
          await f.close();
        }
        expect(model).toBeInstanceOf(DenseTransformerReference);
        const a = twinAgreement(model.forward(tokens).logits, theirs);
        console.log(
          `dense twin ${label} (${fx.config.arch}, ${fx.config.heads}/${fx.config.headsKv} heads × ${fx.config.headDim}, vocab ${fx.config.vocab}, ${tokens.length} tokens, ${types}): ${describeAgreement(a)}; llama.cpp's log-probs renormalized by up to ${maxShift.toExponential(2)}`,
        );
        if (shrink.mix === undefined) {
          expect(a.maxAbs).toBeLessThanOrEqual(1e-4);
          // llama.cpp's token-by-token decode: the same 12-token greedy continuation
          expect(referenceGreedy(model, tokens, 12)).toEqual(await llamaGreedy(ll, tokens, 12));
        } else {
          expect(a.meanAbs).toBeLessThanOrEqual(0.08);
          expect(a.decisive).toBeGreaterThan(0);
          expect(a.argmaxMismatch).toBe(0);
        }
      } finally {
        await ll.dispose();
      }
    });
  });
});
