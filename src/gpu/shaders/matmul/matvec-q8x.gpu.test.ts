// The int8-activation matvec (MatvecVariant.q8x, matvec-q8x.ts) against the CPU reference with the
// activations rounded as llama.cpp rounds them (activation-quant.ts: Q8_0 blocks for Q8_0 weights, Q8_K for
// Q4_K): the integer sums are exact, so only f32 summation order separates the two, far below what the
// rounding itself moves the result (checked too, so a kernel that skipped the rounding would fail).
import { describe, expect, it } from 'vitest';
import { testGpu, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, createStorage, readF32 } from '../../buffers.ts';
import { rowBytes, type WeightType } from '../common/quant-types.ts';
import { randomWeightBytes, submitChecked } from '../common/quant-testing.ts';
import { dequantizeRowsRef } from '../common/blocks.ref.ts';
import { uploadTensor } from '../common/tensor.ts';
import { GgmlType } from '../../../gguf/types.ts';
import { activationRounding } from '../../../model/reference/activation-quant.ts';
import { encodeMatvec, matvecQuantizesX, type MatvecVariant } from './matvec.ts';
import { matmulRef, relMaxErr } from './matmul.ref.ts';
import { rmsnormRef } from '../rmsnorm/rmsnorm.ref.ts';
import { swigluRef } from '../swiglu/swiglu.ref.ts';

const Q8X: MatvecVariant = { q8x: true, wg: 8 };

/** x rounded per vector as llama.cpp's CPU matmul rounds it for a weight of this type. */
function roundX(t: WeightType, x: Float32Array, m: number, k: number): Float32Array {
  const round = activationRounding(GgmlType[t as 'Q8_0' | 'Q4_K'])!;
  const out = new Float32Array(m * k);
  for (let v = 0; v < m; v++) out.set(round(x.subarray(v * k, (v + 1) * k)), v * k);
  return out;
}

describe('int8-activation matvec (q8x)', () => {
  const cases: [WeightType, number, number][] = [
    ['Q8_0', 512, 37],
    ['Q4_K', 768, 37],
    ['Q8_0', 256, 9],
  ];
  // x read plainly, and through subgroupBroadcast where the adapter has subgroups
  for (const [t, k, n] of cases)
    for (const broadcast of [false, true])
      it(`${t} [K ${k}, N ${n}]${broadcast ? ', x broadcast' : ''}: plain, gate+up+SwiGLU, residual add, 2 vectors, split in parts`, async () => {
        const { device } = await testGpu();
        expect(device.features.has('subgroups') || !broadcast, 'the broadcast kernel needs subgroups').toBe(true);
        const variant: MatvecVariant = { q8x: true, wg: 8, subgroups: broadcast };
        const m = 2;
        expect(matvecQuantizesX(device, variant, t, k, m)).toBe(true);
        const opts = { maxPartBytes: 5 * rowBytes(t, k) };
        const gateBytes = randomWeightBytes(t, n, k, k * 13 + n);
        const upBytes = randomWeightBytes(t, n, k, k * 17 + n);
        const w = uploadTensor(device, { name: 'gate', type: t, shape: [k, n] }, gateBytes, opts);
        const w2 = uploadTensor(device, { name: 'up', type: t, shape: [k, n] }, upBytes, opts);
        expect(w.parts.length).toBeGreaterThan(1);
        // one all-zero block (a zero scale) and one block whose largest magnitude is negative
        const x = randomF32(m * k, k + 1).map((v, i) => (i < 32 ? 0 : i === 40 ? -3 : v));
        const y0 = randomF32(m * n, n + 2);
        const xb = uploadStorage(device, x, 'x');
        const plain = createStorage(device, m * n * 4, 'plain');
        const pair = createStorage(device, m * n * 4, 'pair');
        const acc = uploadStorage(device, y0, 'acc');
        await submitChecked(device, (enc) => {
          encodeMatvec(device, enc, { w, x: xb, y: plain, m }, variant);
          encodeMatvec(device, enc, { w, w2, x: xb, y: pair, m }, variant);
          encodeMatvec(device, enc, { w, x: xb, y: acc, m, accumulate: true }, variant);
        });
        const xr = roundX(t, x, m, k);
        const gw = dequantizeRowsRef(t, gateBytes, n, k);
        const gate = matmulRef(gw, xr, m, k, n);
        const up = matmulRef(dequantizeRowsRef(t, upBytes, n, k), xr, m, k, n);
        const got = await readF32(device, plain, m * n);
        expect(relMaxErr(got, gate)).toBeLessThan(1e-5);
        // the rounding is really there: the f32-x product is much further away
        expect(relMaxErr(got, matmulRef(gw, x, m, k, n))).toBeGreaterThan(1e-4);
        expect(relMaxErr(await readF32(device, pair, m * n), swigluRef(gate, up))).toBeLessThan(1e-5);
        expect(
          relMaxErr(
            await readF32(device, acc, m * n),
            gate.map((g, i) => g + y0[i]),
          ),
        ).toBeLessThan(1e-5);
      });

  it('Q4_K at the bounds of its two-products-per-multiply sums: every nibble 15, every x at ±127', async () => {
    const { device } = await testGpu();
    const [t, k, n] = ['Q4_K' as const, 512, 6];
    const bytes = randomWeightBytes(t, n, k, 7);
    // a superblock is 144 bytes: f16 d, f16 dmin, 12 scale bytes, then 128 bytes of nibbles: all 0xff
    for (let b = 0; b < bytes.length; b += 144) bytes.fill(0xff, b + 16, b + 144);
    // x all equal: quantize-x's q is -127 everywhere (the sums at their bound, 8 · 2 · 15 · 127 = 30,480);
    // then signs alternating by word (the cross terms of one sign, at 8 · 15 · 127 = 15,240)
    for (const x of [new Float32Array(k).fill(0.5), Float32Array.from({ length: k }, (_, i) => ((i >> 2) % 2 ? -1 : 1))]) {
      for (const broadcast of device.features.has('subgroups') ? [false, true] : [false]) {
        const w = uploadTensor(device, { name: 'w', type: t, shape: [k, n] }, bytes);
        const y = createStorage(device, n * 4, 'y');
        await submitChecked(device, (enc) => encodeMatvec(device, enc, { w, x: uploadStorage(device, x, 'x'), y }, { ...Q8X, subgroups: broadcast }));
        const want = matmulRef(dequantizeRowsRef(t, bytes, n, k), roundX(t, x, 1, k), 1, k, n);
        expect(relMaxErr(await readF32(device, y, n), want), `broadcast ${broadcast}`).toBeLessThan(1e-5);
      }
    }
  });

  it('RMSNorm on load: the normed x is what gets quantized', async () => {
    const { device } = await testGpu();
    const [t, k, n, m] = ['Q4_K' as const, 512, 21, 2];
    const bytes = randomWeightBytes(t, n, k, 99);
    const w = uploadTensor(device, { name: 'w', type: t, shape: [k, n] }, bytes);
    const h = randomF32(m * k, 5).map((v) => 40 * v);
    const g = randomF32(k, 6).map((v) => 1 + v);
    const y = createStorage(device, m * n * 4, 'y');
    await submitChecked(device, (enc) =>
      encodeMatvec(device, enc, { w, x: uploadStorage(device, h, 'h'), y, m, norm: { weight: uploadStorage(device, g, 'g'), eps: 1e-6 } }, Q8X),
    );
    const xn = rmsnormRef(h, g, m, k, 1e-6);
    // the GPU's norm differs from the CPU's in the last bits, so a value on a rounding boundary may land
    // one step away: a looser bound, still well below the rounding's own effect
    const got = await readF32(device, y, m * n);
    const wf = dequantizeRowsRef(t, bytes, n, k);
    const err = relMaxErr(got, matmulRef(wf, roundX(t, xn, m, k), m, k, n));
    expect(err).toBeLessThan(2e-3);
    expect(err).toBeLessThan(relMaxErr(got, matmulRef(wf, xn, m, k, n)) / 3);
  });

  it('falls back to the f32 kernels where it does not apply (other types, K % 256 != 0)', async () => {
    const { device } = await testGpu();
    for (const [t, k] of [
      ['Q6_K', 512],
      ['Q8_0', 288],
    ] as [WeightType, number][]) {
      expect(matvecQuantizesX(device, Q8X, t, k)).toBe(false);
      const n = 11;
      const bytes = randomWeightBytes(t, n, k, 3);
      const w = uploadTensor(device, { name: 'w', type: t, shape: [k, n] }, bytes);
      const x = randomF32(k, 4);
      const y = createStorage(device, n * 4, 'y');
      await submitChecked(device, (enc) => encodeMatvec(device, enc, { w, x: uploadStorage(device, x, 'x'), y }, Q8X));
      expect(relMaxErr(await readF32(device, y, n), matmulRef(dequantizeRowsRef(t, bytes, n, k), x, 1, k, n)), t).toBeLessThan(1e-5);
    }
  });
});
