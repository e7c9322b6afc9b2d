/**
 * The whole WebGPU forward against the CPU reference forward on random-weight fixtures of every
 * variant: logits (max |Δ log-softmax|), the indexer's chosen positions, and the router's choices.
 * Prefill in chunks and token-by-token decode must agree too.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from '../../gpu/testing/test-gpu.ts';
import { openGguf } from '../../gguf/reader.ts';
import { writeFixture, type FixtureOptions } from '../../tools/fixture/fixture.ts';
import { ReferenceModel } from '../../model/reference/forward.ts';
import { weightsFromMap } from '../../model/reference/weights.ts';
import { WebGpuModel } from './webgpu-model.ts';
import { memoryStore } from '../../gpu/tuning/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'sparsescope-webgpu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function logSoftmax(v: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) m = Math.max(m, v[i]);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.exp(v[i] - m);
  const l = Math.log(s) + m;
  return Float64Array.from(v as ArrayLike<number>, (x) => x - l);
}

function maxLogSoftmaxDiff(a: Float32Array[], b: Float32Array[]): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  a.forEach((row, i) => {
    const la = logSoftmax(row);
    const lb = logSoftmax(b[i]);
    for (let j = 0; j < la.length; j++) d = Math.max(d, Math.abs(la[j] - lb[j]));
  });
  return d;
}

// 24 tokens: prefill in chunks of 16 + 8 (the second chunk reads the first's cache); decode: 16 by prefill, then 8 one by one.
const tokens = Array.from({ length: 24 }, (_, i) => (i * 37 + 11) % 250);

const variants: [string, FixtureOptions, number | undefined][] = [
  ['deepseek2 absorbed MLA, softmax MoE', { arch: 'deepseek2', seed: 3 }, undefined],
  ['deepseek2 legacy attn_kv_b', { arch: 'deepseek2', attn: 'legacy', seed: 4 }, undefined],
  ['deepseek2 lite (no q_lora), tied output', { arch: 'deepseek2', lite: true, tied: true, seed: 5 }, undefined],
  ['deepseek2 YaRN, sigmoid + bias + groups', { arch: 'deepseek2', yarn: true, gating: 'sigmoid', dims: { groups: 4, groupsUsed: 2 }, seed: 6 }, undefined],
  ['deepseek32 top-k 8 of 24 (sparse)', { arch: 'deepseek32', gating: 'sigmoid', seed: 7 }, 8],
  ['deepseek32 top-k ≥ tokens', { arch: 'deepseek32', gating: 'sigmoid', seed: 8 }, 64],
];

describe('WebGPU forward = CPU reference forward', () => {
  for (const [name, fo, topK] of variants) {
    it(name, async () => {
      const ctx = await testGpu();
      const path = join(dir, `${name.replace(/\W+/g, '_')}.gguf`);
      const fx = await writeFixture(path, fo);
      const file = await openGguf({ kind: 'path', path });
      const model = await WebGpuModel.load(ctx, file, { contextSize: 32, prefillChunk: 16 });
      await file.close();
      const ref = new ReferenceModel(fx.config, weightsFromMap(fx.f32));
      const want = ref.forward(tokens, { indexTopK: topK, trace: true });

      // prefill: chunks of 16 + 8 tokens, every position's logits and trace
      const pre = await model.session({ indexTopK: topK, trace: true }).feed(tokens, { allLogits: true });
      const dPrefill = maxLogSoftmaxDiff(pre.logits, want.logits);
      // decode: 16 tokens of prefill, then one token per pass
      const s = model.session({ indexTopK: topK });
      await s.feed(tokens.slice(0, 16));
      const dec: Float32Array[] = [];
      for (const t of tokens.slice(16)) dec.push(...(await s.feed([t])).logits);
      const dDecode = maxLogSoftmaxDiff(dec, want.logits.slice(16));
      console.log(`${name}: max |Δ log-softmax| prefill ${dPrefill.toExponential(2)}, decode ${dDecode.toExponential(2)}`);
      expect(dPrefill).toBeLessThan(1e-3);
      expect(dDecode).toBeLessThan(1e-3);

      // the traces: same chosen positions and experts as the reference, for every query and layer
      pre.trace!.forEach((tt, q) => {
        tt.layers.forEach((l, il) => {
          const rl = want.trace[q].layers[il];
          if (rl.indexer) expect(l.indexer!.chosen, `query ${q} layer ${il}`).toEqual(rl.indexer.chosen);
          if (rl.moe) expect(l.moe!.experts).toEqual(rl.moe.experts);
          const dd = Math.max(...l.attnDense.map((v, i) => Math.abs(v - rl.attnDense[i])));
          expect(dd).toBeLessThan(1e-3);
        });
      });
      model.destroy();
    });
  }
});

describe('a load with the matvec tuner', () => {
  it('measures each kernel class once, keeps the verdicts in its store, and decodes as the CPU reference', async () => {
    const ctx = await testGpu();
    const path = join(dir, 'tuned.gguf');
    const fx = await writeFixture(path, { arch: 'deepseek32', gating: 'sigmoid', seed: 9 });
    const store = memoryStore();
    const saves: number[] = [];
    const counting = { ...store, save: async (k: string, r: Parameters<typeof store.save>[1]) => (saves.push(Object.keys(r).length), store.save(k, r)) };
    const file = await openGguf({ kind: 'path', path });
    const model = await WebGpuModel.load(ctx, file, { contextSize: 32, matvecTuning: counting });
    expect(model.matvecTuning.length).toBeGreaterThan(0);
    expect(saves.length).toBe(model.matvecTuning.length); // one measurement per class
    const want = new ReferenceModel(fx.config, weightsFromMap(fx.f32)).forward(tokens.slice(0, 8), { indexTopK: 4 }).logits;
    const s = model.session({ indexTopK: 4 });
    const got: Float32Array[] = [];
    for (const t of tokens.slice(0, 8)) got.push(...(await s.feed([t])).logits);
    // whichever variant the tuner chose, every one is tested: only the summation order differs
    expect(maxLogSoftmaxDiff(got, want)).toBeLessThan(1e-3);
    model.destroy();
    // a second load of the same shapes measures nothing: the store answers
    const again = await WebGpuModel.load(ctx, file, { contextSize: 32, matvecTuning: counting });
    expect(saves.length).toBe(model.matvecTuning.length);
    expect(again.matvecTuning).toEqual(model.matvecTuning);
    again.destroy();
    await file.close();
  }, 300_000);
});
