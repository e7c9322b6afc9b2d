// Several matrices in one dispatch (createMultiMatvec, matvec-io.wgsl's MULTI) against each matrix's CPU
// product: types mixed as in a Q4_K_M file, N not multiples of the rows per workgroup, the y blocks at
// offsets with gaps that must stay untouched, with and without RMSNorm on load, every variant.
import { describe, expect, it } from 'vitest';
import { testGpu, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, readF32 } from '../../buffers.ts';
import type { WeightType } from '../common/quant-types.ts';
import { randomWeightBytes, submitChecked } from '../common/quant-testing.ts';
import { dequantizeRowsRef } from '../common/blocks.ref.ts';
import { uploadTensor } from '../common/tensor.ts';
import { createMultiMatvec, multiMatvecFits, type MatvecVariant } from './matvec.ts';
import { matmulRef, relMaxErr } from './matmul.ref.ts';
import { rmsnormRef } from '../rmsnorm/rmsnorm.ref.ts';

const SENTINEL = -4242;

describe('multi-matrix matvec', () => {
  const sets: [string, WeightType[], number[]][] = [
    ['one type, 2 matrices', ['Q4_K', 'Q4_K'], [37, 64]],
    ['mixed types, 4 matrices', ['Q4_K', 'Q8_0', 'Q6_K', 'F16'], [19, 72, 5, 33]],
  ];
  // two of the four combinations: llvmpipe compiles the 4-type shader for ~20 s per variant
  for (const [label, types, ns] of sets) {
    for (const normed of [label.startsWith('mixed')]) {
      it(`${label}${normed ? ', RMSNorm on load' : ''}: every variant, 2 vectors`, async () => {
        const { device, info } = await testGpu();
        const [k, m] = [256, 2];
        const bytes = types.map((t, j) => randomWeightBytes(t, ns[j], k, 100 + j));
        const ws = types.map((t, j) => uploadTensor(device, { name: `w${j}`, type: t, shape: [k, ns[j]] }, bytes[j]));
        expect(multiMatvecFits(ws)).toBe(true);
        // blocks with a gap of 3 floats after each
        const offsets: number[] = [];
        ns.forEach((n, j) => offsets.push(j === 0 ? 0 : offsets[j - 1] + m * ns[j - 1] + 3));
        const total = offsets[offsets.length - 1] + m * ns[ns.length - 1] + 3;
        const h = randomF32(m * k, 7).map((v) => (normed ? 30 * v : v));
        const g = randomF32(k, 8).map((v) => 1 + v);
        const x = normed ? rmsnormRef(h, g, m, k, 1e-6) : h;
        const want = new Float32Array(total).fill(SENTINEL);
        ns.forEach((n, j) => want.set(matmulRef(dequantizeRowsRef(types[j], bytes[j], n, k), x, m, k, n), offsets[j]));
        const variants: MatvecVariant[] = [{ subgroups: false }, { subgroups: info.hasSubgroups, rows: 2 }, { perRow: true, wg: 16 }];
        for (const v of variants) {
          const y = uploadStorage(device, new Float32Array(total).fill(SENTINEL), 'y');
          const norm = normed ? { weight: uploadStorage(device, g, 'g'), eps: 1e-6 } : undefined;
          const kern = createMultiMatvec(device, { ws, x: uploadStorage(device, h, 'h'), y, yOffsets: offsets, m, norm }, { f16: false, ...v });
          await submitChecked(device, (enc) => kern.encode(enc));
          const got = await readF32(device, y, total);
          const gaps = Array.from(got).filter((_, i) => want[i] === SENTINEL);
          expect(
            gaps.every((e) => e === SENTINEL),
            JSON.stringify(v),
          ).toBe(true);
          expect(
            relMaxErr(
              got.map((e, i) => (want[i] === SENTINEL ? 0 : e)),
              want.map((e) => (e === SENTINEL ? 0 : e)),
            ),
            JSON.stringify(v),
          ).toBeLessThan(1e-5);
          kern.destroy();
        }
      });
    }
  }

  it('matrices of different K, too many or split in parts are refused with a typed error', async () => {
    const { device } = await testGpu();
    const t = (name: string, k: number, opts = {}) => uploadTensor(device, { name, type: 'Q8_0', shape: [k, 8] }, randomWeightBytes('Q8_0', 8, k, 1), opts);
    const b = uploadStorage(device, new Float32Array(64), 'b');
    const make = (ws: ReturnType<typeof t>[]) => () => createMultiMatvec(device, { ws, x: b, y: b, yOffsets: ws.map(() => 0) });
    expect(make([t('a', 64), t('b', 32)])).toThrow(expect.objectContaining({ code: 'wrong-shape' }));
    expect(make([t('a', 64), t('b', 64), t('c', 64), t('d', 64), t('e', 64)])).toThrow(expect.objectContaining({ code: 'wrong-shape' }));
    expect(make([t('a', 64), t('b', 64, { maxPartBytes: 4 * 68 })])).toThrow(expect.objectContaining({ code: 'wrong-shape' }));
    expect(make([t('a', 64)])).toThrow(expect.objectContaining({ code: 'wrong-shape' }));
  });
});
