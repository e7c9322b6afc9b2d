import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { writeFixture, type Fixture, type FixtureOptions } from '../../tools/fixture/fixture.ts';
import type { GgmlTypeName } from '../../gguf/types.ts';
import {
  compareLogProbs,
  llamaSuite,
  llamaGreedy,
  llamaLogProbs,
  llamaLogProbsSequential,
  loadReference,
  referenceGreedy,
  type LlamaCppModel,
} from './testing/llama-ref.ts';
import type { ReferenceModel } from './forward.ts';

/**
 * The CPU reference against llama.cpp (node-llama-cpp 3.21.1, CPU, F32 KV cache, no flash
 * attention) on the same random-weight GGUF files. llama.cpp's answers are the expectations.
 */
const suite = llamaSuite('ref');

async function both(name: string, o: FixtureOptions): Promise<{ fx: Fixture; ll: LlamaCppModel; ref: ReferenceModel }> {
  const path = join(suite.dir, `${name}.gguf`);
  const fx = await writeFixture(path, o);
  const { model: ref } = await loadReference(path);
  const ll = await suite.llama.loadModel(path);
  return { fx, ll, ref };
}

/** BOS + llama.cpp's tokens for a sentence, then a fixed pseudo-random tail up to n tokens. */
async function promptTokens(fx: Fixture, ll: LlamaCppModel, n: number): Promise<number[]> {
  const text = await ll.tokenize('The router sent each token to the experts; the indexer chose a few.');
  const out = [fx.bos, ...text].slice(0, n);
  for (let i = out.length; i < n; i++) out.push((i * 37 + 11) % (fx.config.vocab - 2));
  return out;
}

const F32_CASES: [string, FixtureOptions, number][] = [
  ['deepseek2 absorbed MLA, softmax', { arch: 'deepseek2', seed: 11 }, 48],
  ['deepseek2 legacy attn_kv_b', { arch: 'deepseek2', attn: 'legacy', seed: 12 }, 48],
  ['deepseek2 lite (no q_lora)', { arch: 'deepseek2', lite: true, seed: 13 }, 48],
  ['deepseek2 lite, tied output (no output.weight)', { arch: 'deepseek2', lite: true, tied: true, seed: 24 }, 32],
  ['deepseek2 YaRN', { arch: 'deepseek2', yarn: true, seed: 14 }, 48],
  ['deepseek2 MoE sigmoid + bias + groups, norm, scale 2.5', { arch: 'deepseek2', gating: 'sigmoid', dims: { groups: 4, groupsUsed: 2 }, seed: 15 }, 48],
  ['deepseek2 MoE softmax_weight', { arch: 'deepseek2', gating: 'softmax_weight', seed: 16 }, 32],
  ['deepseek2 MoE sqrt_softplus + norm', { arch: 'deepseek2', gating: 'sqrt_softplus', weightsNorm: true, seed: 17 }, 32],
  ['deepseek32 top-k 64 ≥ tokens', { arch: 'deepseek32', gating: 'sigmoid', dims: { topK: 64, groups: 2, groupsUsed: 1 }, seed: 18 }, 48],
  ['deepseek32 top-k 8 of 64 tokens', { arch: 'deepseek32', gating: 'sigmoid', dims: { topK: 8 }, seed: 19 }, 64],
  ['deepseek32 top-k 8, YaRN', { arch: 'deepseek32', gating: 'sigmoid', yarn: true, dims: { topK: 8 }, seed: 20 }, 40],
];

describe('F32 fixtures: log-softmax and greedy generation match llama.cpp', () => {
  for (const [name, o, n] of F32_CASES) {
    it(name, async () => {
      const { fx, ll, ref } = await both(name.replace(/\W+/g, '-'), o);
      try {
        const tokens = await promptTokens(fx, ll, n);
        const theirs = await llamaLogProbs(ll, tokens);
        const ours = ref.forward(tokens).logits;
        const d = compareLogProbs(ours, theirs);
        const prompt = tokens.slice(0, 6);
        const g1 = await llamaGreedy(ll, prompt, 32);
        const g2 = referenceGreedy(ref, prompt, 32);
        console.log(
          `${name}: ${n} positions × ${fx.config.vocab} vocab, max |Δ log p| = ${d.max.toExponential(2)}, mean = ${d.mean.toExponential(2)}; greedy 32: ${g1.every((t, i) => t === g2[i]) ? 'identical' : 'DIFFERENT'} (${new Set(g1).size} distinct tokens)`,
        );
        expect(d.max).toBeLessThanOrEqual(1e-4);
        expect(g2).toEqual(g1);
      } finally {
        await ll.dispose();
      }
    });
  }
});

const EMBD_TYPES: GgmlTypeName[] = ['F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K'];

describe('codec exactness: token_embd stored quantized, everything else F32', () => {
  for (const t of EMBD_TYPES) {
    it(`token_embd ${t}`, async () => {
      // embd 256 so that K-quant rows (256 values) fit; the row lookup dequantizes exactly, so the
      // logits depend on our codec reproducing llama.cpp's dequantized row bit for bit
      const { fx, ll, ref } = await both(`embd-${t}`, {
        arch: 'deepseek2',
        embdType: t,
        seed: 30,
        dims: { embd: 256, layers: 2, leadingDense: 1, experts: 4 },
      });
      try {
        const tokens = await promptTokens(fx, ll, 8);
        const d = compareLogProbs(ref.forward(tokens).logits, await llamaLogProbs(ll, tokens));
        console.log(`token_embd ${t}: max |Δ log p| = ${d.max.toExponential(2)}, mean = ${d.mean.toExponential(2)}`);
        expect(d.max).toBeLessThanOrEqual(1e-4);
      } finally {
        await ll.dispose();
      }
    });
  }
});

/**
 * Whole quantized models: llama.cpp's CPU matmuls also quantize the activations (Q8_0 for Q8_0
 * weights, Q8_K for K-quants; docs/llama-cpp-reference.md), which our f32-activation reference does not, so the
 * plain comparison only holds to a tolerance. With the same input rounding emulated
 * (activation-quant.ts) every position matches llama.cpp to float-summation noise (≤ 1e-4): the
 * activation quantization, and nothing else, explains the gap. One wrinkle: with K-quant weights
 * llama.cpp itself disagrees with itself by ~0.1 at some positions between a batched prefill and
 * token-by-token decoding (its x86 repacked / batched K-quant kernels), so a position counts as
 * matched when it matches either of llama.cpp's two answers.
 */
const QUANT_CASES: [string, GgmlTypeName, boolean, number][] = [
  // name, type, MoE layer (else one dense layer), plain mean tolerance
  ['Q8_0 with MoE', 'Q8_0', true, 0.1],
  ['Q6_K with MoE', 'Q6_K', true, 0.1],
  ['Q4_K with MoE', 'Q4_K', true, 0.1],
  ['Q6_K one dense layer', 'Q6_K', false, 0.1],
  ['Q4_K one dense layer', 'Q4_K', false, 0.1],
];

describe('quantized fixtures: the gap to llama.cpp is its activation quantization', () => {
  for (const [name, t, moe, meanTol] of QUANT_CASES) {
    it(name, async () => {
      const dims = {
        embd: 256,
        qLora: 256,
        kvLora: 256,
        nope: 32,
        rope: 16,
        v: 64,
        ffn: 256,
        ffx: 64,
        experts: 4,
        used: 2,
        layers: moe ? 2 : 1,
        leadingDense: 1,
      };
      const path = join(suite.dir, `q-${name.replace(/\W+/g, '-')}.gguf`);
      const fx = await writeFixture(path, { arch: 'deepseek2', qtype: t, gating: 'sigmoid', seed: 40, dims });
      const ll = await suite.llama.loadModel(path);
      try {
        const tokens = await promptTokens(fx, ll, 24);
        const batch = await llamaLogProbs(ll, tokens);
        const seq = await llamaLogProbsSequential(ll, tokens);
        const self = compareLogProbs(
          seq.map((r) => Float32Array.from(r)),
          batch,
        );
        const plain = compareLogProbs((await loadReference(path)).model.forward(tokens).logits, batch);
        const emulated = (await loadReference(path, { emulateActivationQuant: true })).model.forward(tokens).logits;
        const eb = compareLogProbs(emulated, batch);
        const es = compareLogProbs(emulated, seq);
        const matched = eb.perPosition.filter((d, i) => Math.min(d, es.perPosition[i]) <= 1e-4).length;
        console.log(
          `whole model ${name}: f32 activations mean |Δ log p| = ${plain.mean.toExponential(2)}, max = ${plain.max.toExponential(2)}; ` +
            `activation rounding emulated: mean = ${eb.mean.toExponential(2)}, max = ${eb.max.toExponential(2)} vs prefill, ${matched}/${tokens.length} positions ≤ 1e-4 vs prefill or decode; ` +
            `llama.cpp prefill vs its own decode: max = ${self.max.toExponential(2)}`,
        );
        expect(plain.mean).toBeLessThanOrEqual(meanTol);
        expect(matched).toBe(tokens.length);
      } finally {
        await ll.dispose();
      }
    });
  }
});
