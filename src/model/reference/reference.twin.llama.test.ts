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
import { twinOptions, type TwinName, type TwinShrink } from '../../tools/fixture/twins.ts';
import { typeName } from '../../gguf/types.ts';
import { llamaLogProbs, llamaSuite, loadReference } from './testing/llama-ref.ts';
import { describeAgreement, twinAgreement, twinPrompt } from './testing/twins.ts';

const suite = llamaSuite('twin-ref');

/** narrow bodies with the real head dims (nope 128, rope 64, v 128, kv_lora 512) */
const NARROW = { embd: 256, heads: 2, ffn: 512 };

export const SMALL_TWINS: [TwinName, TwinShrink][] = [
  ['youtu-llm-2b', { layers: 2, vocab: 1024, dims: { ...NARROW, qLora: 256 } }],
  ['youtu-llm-2b', { layers: 2, vocab: 1024, mix: 'Q4_K_M', dims: { ...NARROW, qLora: 256 } }],
  // 27 layers: llama.cpp reads a file without q_lora_rank as lite only at that count; ffx 384 is not
  // whole 256-blocks, so the expert FFNs take the mix's fallbacks as V2-Lite's 1408 does
  ['deepseek-v2-lite-chat', { experts: 4, vocab: 1024, mix: 'Q4_K_M', dims: { ...NARROW, ffx: 384 } }],
  ['moonlight-16b-a3b', { experts: 4, vocab: 1024, mix: 'Q2_K', dims: { ...NARROW, ffx: 384 } }],
  // 8 experts: llama.cpp's 8-expert rules (attn_output Q5_K, indexer.attn_k Q8_0) fire
  ['deepseek-v3.2', { layers: 4, experts: 8, vocab: 1024, mix: 'Q4_K_M', dims: { ...NARROW, heads: 4, qLora: 256, ffx: 256, indexerHeads: 4, topK: 8 } }],
  ['deepseek-v3', { layers: 4, experts: 16, vocab: 1024, mix: 'Q2_K', dims: { ...NARROW, heads: 4, qLora: 256, ffx: 256 } }],
];

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
