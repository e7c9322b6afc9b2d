/**
 * Oracle top-k on the GPU (GraphOptions.oracleTopK: a dense pass for the weights, their top-k, sparse
 * attention over those) for a dense family (qwen3) and for MLA with the indexer (deepseek32), against
 * the CPU reference's oracle (oracle-topk.ts): K ≥ the tokens gives the dense logits; K = 3 the reference's
 * K = 3 logits, prefill and decode, clearly apart from dense; each layer's traced picks are the top-K of the
 * trace's own dense weights (selected again on the host), and on deepseek32 the recall is the indexer's
 * picks ∩ the oracle's.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from '../../gpu/testing/test-gpu.ts';
import { openGguf } from '../../gguf/reader.ts';
import { writeFixture } from '../../tools/fixture/fixture.ts';
import { writeDenseFixture } from '../../tools/fixture/dense-fixture.ts';
import { ReferenceModel } from '../../model/reference/forward.ts';
import { DenseTransformerReference } from '../../model/reference/parts/dense-transformer.ts';
import { indexerRecall, oracleTopK } from '../../model/reference/oracle-topk.ts';
import { weightsFromMap } from '../../model/reference/weights.ts';
import { WebGpuModel } from './webgpu-model.ts';

const dir = mkdtempSync(join(tmpdir(), 'sparsescope-oracle-gpu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOKENS = Array.from({ length: 14 }, (_, i) => (i * 37 + 11) % 250);
const maxRel = (a: Float32Array[], b: Float32Array[]) =>
  Math.max(...a.map((row, i) => row.reduce((m, v, j) => Math.max(m, Math.abs(v - b[i][j])), 0) / Math.max(...b[i].map(Math.abs))));

type Reference = { forward: (t: number[], o: { oracleTopK?: number; indexTopK?: number }) => { logits: Float32Array[] } };

const CASES: [string, () => Promise<{ path: string; ref: Reference; indexTopK?: number }>][] = [
  [
    'qwen3 (GQA)',
    async () => {
      const path = join(dir, 'qwen3.gguf');
      const fx = await writeDenseFixture(path, {
        arch: 'qwen3',
        seed: 31,
        dims: { embd: 64, layers: 2, heads: 4, headsKv: 2, headDim: 16, ffn: 128, context: 64 },
      });
      const ref = new DenseTransformerReference(fx.config, weightsFromMap(fx.f32));
      return { path, ref: { forward: (t, o) => ref.forward(t, { oracleTopK: o.oracleTopK }) } };
    },
  ],
  [
    'deepseek32 (MLA, indexer top-k 4)',
    async () => {
      const path = join(dir, 'ds32.gguf');
      const fx = await writeFixture(path, { arch: 'deepseek32', gating: 'sigmoid', seed: 32 });
      const ref = new ReferenceModel(fx.config, weightsFromMap(fx.f32));
      return { path, ref: { forward: (t, o) => ref.forward(t, o) }, indexTopK: 4 };
    },
  ],
];

describe('oracle top-k on the GPU = the CPU reference oracle', () => {
  for (const [name, make] of CASES) {
    it(name, async () => {
      const { path, ref, indexTopK } = await make();
      const file = await openGguf({ kind: 'path', path });
      const model = await WebGpuModel.load(await testGpu(), file, { contextSize: 32, prefillChunk: 8 });
      await file.close();
      try {
        const feed = async (oracle: number, decodeLast = 0) => {
          const s = model.session({ oracleTopK: oracle, indexTopK });
          const head = TOKENS.slice(0, TOKENS.length - decodeLast);
          const out = decodeLast ? [] : (await s.feed(head, { allLogits: true })).logits;
          if (decodeLast) {
            out.push(...(await s.feed(head, { allLogits: true })).logits);
            for (const t of TOKENS.slice(-decodeLast)) out.push(...(await s.feed([t])).logits);
          }
          return out;
        };
        const dense = (await model.session({ indexTopK: 0 }).feed(TOKENS, { allLogits: true })).logits;
        const wide = await feed(TOKENS.length);
        expect(maxRel(wide, dense)).toBeLessThan(1e-6);
        // K = 3: the reference's oracle, in prefill (chunks of 8) and with the last 4 tokens decoded
        const want = ref.forward(TOKENS, { oracleTopK: 3, indexTopK }).logits;
        const prefill = await feed(3);
        const decode = await feed(3, 4);
        console.log(
          `${name}: oracle K=3 vs the reference ${maxRel(prefill, want).toExponential(2)} (prefill), ${maxRel(decode, want).toExponential(2)} (decode); vs dense ${maxRel(prefill, dense).toExponential(2)}`,
        );
        expect(maxRel(prefill, want)).toBeLessThan(1e-4);
        expect(maxRel(decode, want)).toBeLessThan(1e-4);
        expect(maxRel(prefill, dense)).toBeGreaterThan(1e-3);
        // the trace: picks = the top-3 of the traced dense weights, selected again here; recall = indexer ∩ oracle
        const traced = await model.session({ oracleTopK: 3, indexTopK, trace: true }).feed(TOKENS);
        for (const t of traced.trace!) {
          for (const l of t.layers) {
            expect(l.oracle).toEqual(oracleTopK(l.attnDense, 3));
            if (indexTopK) expect(l.oracleRecall).toBe(indexerRecall(l.indexer!.chosen, l.oracle!));
            else expect(l.oracleRecall).toBeUndefined();
          }
        }
      } finally {
        model.destroy();
      }
    });
  }
});
