import { describe, expect, it } from 'vitest';
import { testGpu } from '../../testing/test-gpu.ts';
import { uploadStorage, createStorage, readF32 } from '../../buffers.ts';
import { ALL_WEIGHT_TYPES, WEIGHT_TYPES, isFloatType } from '../common/quant-types.ts';
import { randomWeightBytes, submitChecked } from '../common/quant-testing.ts';
import { dequantizeRowsRef } from '../common/blocks.ref.ts';
import { uploadTensor } from '../common/tensor.ts';
import { createEmbedding } from './embedding.ts';
import { embeddingRef } from './embedding.ref.ts';

/** Largest difference in units of the reference value's magnitude (0 when bit-equal). */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    m = Math.max(m, Number.isNaN(d) ? Infinity : d / Math.max(Math.abs(b[i]), 1e-30));
  }
  return m;
}

describe('embedding lookup', () => {
  for (const t of ALL_WEIGHT_TYPES) {
    const k = isFloatType(t) ? 100 : WEIGHT_TYPES[t].blockValues === 32 ? 96 : 512;
    const v = 23;
    const ids = new Uint32Array([5, 0, 22, 5, 17, 1, 9]);
    for (const maxRows of [undefined, 4]) {
      it(`${t} [K ${k}, V ${v}] ${maxRows ? `split into parts of ${maxRows} rows` : 'one part'}`, async () => {
        const { device } = await testGpu();
        const bytes = randomWeightBytes(t, v, k, 99 + k);
        const rb = bytes.length / v;
        const table = uploadTensor(device, { name: 'token_embd', type: t, shape: [k, v] }, bytes, maxRows ? { maxPartBytes: maxRows * rb } : {});
        expect(table.parts.length).toBe(maxRows ? Math.ceil(v / maxRows) : 1);
        const idb = uploadStorage(device, ids, 'ids');
        const out = createStorage(device, ids.length * k * 4, 'out');
        await submitChecked(device, (enc) => createEmbedding(device, { table, ids: idb, out, tokens: ids.length }).encode(enc));
        const got = await readF32(device, out, ids.length * k);
        const want = embeddingRef(dequantizeRowsRef(t, bytes, v, k), ids, k);
        // ggml's formulas in f32; a compiler may fuse Q4_K/Q5_K's d*q - m into one fma (<= 1 ulp of the parts).
        expect(maxRelDiff(got, want)).toBeLessThan(t === 'Q4_K' || t === 'Q5_K' ? 1e-5 : 1e-7);
      });
    }
  }
});
