import { describe, expect, it } from 'vitest';
import { testGpu, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, createStorage, readF32 } from '../../buffers.ts';
import { ALL_WEIGHT_TYPES, WEIGHT_TYPES, isFloatType, type WeightType } from '../common/quant-types.ts';
import { randomWeightBytes, submitChecked } from '../common/quant-testing.ts';
import { dequantizeRowsRef } from '../common/blocks.ref.ts';
import { uploadTensor } from '../common/tensor.ts';
import { encodeMatmul } from './matmul.ts';
import { matmulRef, relMaxErr } from './matmul.ref.ts';

/** [M, K, N]: M and N off the 32-row tiles, K off the 32-value chunks for float types. */
function shape(t: WeightType): [number, number, number] {
  if (isFloatType(t)) return [37, 100, 45];
  return WEIGHT_TYPES[t].blockValues === 32 ? [37, 160, 45] : [37, 512, 45];
}

describe('quantized matmul (prefill)', () => {
  for (const t of ALL_WEIGHT_TYPES) {
    for (const split of [false, true]) {
      it(`${t} [M ${shape(t)[0]}, K ${shape(t)[1]}, N ${shape(t)[2]}]${split ? ', split into parts of 7 rows' : ''}`, async () => {
        const { device } = await testGpu();
        const [m, k, n] = shape(t);
        const bytes = randomWeightBytes(t, n, k, 7 * k + n);
        const rb = bytes.length / n;
        const w = uploadTensor(device, { name: 'w', type: t, shape: [k, n] }, bytes, split ? { maxPartBytes: 7 * rb } : {});
        expect(w.parts.length).toBe(split ? 7 : 1);
        const x = randomF32(m * k, 3 + k);
        const xb = uploadStorage(device, x, 'x');
        const yb = createStorage(device, m * n * 4, 'y');
        await submitChecked(device, (enc) => encodeMatmul(device, enc, { w, x: xb, y: yb, m }));
        const got = await readF32(device, yb, m * n);
        expect(relMaxErr(got, matmulRef(dequantizeRowsRef(t, bytes, n, k), x, m, k, n))).toBeLessThan(1e-5);
      });
    }
  }

  it('a single row of X (M 1) and a 3-row weight', async () => {
    const { device } = await testGpu();
    const [m, k, n] = [1, 256, 3];
    const bytes = randomWeightBytes('Q4_K', n, k, 5);
    const w = uploadTensor(device, { name: 'w', type: 'Q4_K', shape: [k, n] }, bytes);
    const x = randomF32(m * k, 11);
    const yb = createStorage(device, m * n * 4, 'y');
    await submitChecked(device, (enc) => encodeMatmul(device, enc, { w, x: uploadStorage(device, x, 'x'), y: yb, m }));
    const got = await readF32(device, yb, m * n);
    expect(relMaxErr(got, matmulRef(dequantizeRowsRef('Q4_K', bytes, n, k), x, m, k, n))).toBeLessThan(1e-5);
  });
});
