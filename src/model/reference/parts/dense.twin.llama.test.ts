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
import { llamaGreedy, llamaLogProbs, llamaSuite } from '../testing/llama-ref.ts';
import { describeAgreement, renormalized, twinAgreement } from '../testing/twins.ts';
import { DenseTransformerReference } from './dense-transformer.ts';

const suite = llamaSuite('dense-twin');

const TEXT = 'The cat sat. Le chat est assis. 猫が座った。 Кошка.';

// Llama 3's rope factors act on wavelengths over original/high_freq positions: with the released
// 8192 none acts within a short prompt, so the test twin takes 16 (every pair but the fastest scaled)
const SHORT_LLAMA3 = { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 16 };

/** Our greedy continuation (argmax, ties to the lower id), one session. */
function greedy(model: { session(): { step(t: number): { logits: Float32Array } } }, prompt: number[], n: number): number[] {
  const s = model.session();
  let logits: Float32Array = new Float32Array(0);
  for (const t of prompt) logits = s.step(t).logits;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
    out.push(best);
    if (i + 1 < n) logits = s.step(best).logits;
  }
  return out;
}

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
        const text = await ll.tokenize(TEXT);
        const walk = Array.from({ length: 4 }, (_, i) => (i * 7919 + 13) % fx.config.vocab);
        const tokens = [fx.bos, ...text, ...walk];
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
          expect(greedy(model, tokens, 12)).toEqual(await llamaGreedy(ll, tokens, 12));
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
