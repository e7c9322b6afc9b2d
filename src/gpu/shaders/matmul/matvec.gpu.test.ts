import { describe, expect, it } from 'vitest';
import { testGpu, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, createStorage, readF32 } from '../../buffers.ts';
import { ALL_WEIGHT_TYPES, WEIGHT_TYPES, isFloatType, type WeightType } from '../common/quant-types.ts';
import { randomWeightBytes, submitChecked } from '../common/quant-testing.ts';
import { dequantizeRowsRef } from '../common/blocks.ref.ts';
import { uploadTensor } from '../common/tensor.ts';
import { encodeMatvec, type MatvecVariant } from './matvec.ts';
import { matmulRef, relMaxErr } from './matmul.ref.ts';
import { swigluRef } from '../swiglu/swiglu.ref.ts';

/** [K, N] per type: K off the workgroup's multiples, N not a multiple of the rows per workgroup. */
function shapes(t: WeightType): [number, number][] {
  const qk = WEIGHT_TYPES[t].blockValues;
  if (isFloatType(t))
    return [
      [7, 3],
      [96, 5],
      [1000, 37],
      [4096, 9],
    ];
  if (qk === 32)
    return [
      [32, 1],
      [96, 5],
      [1056, 37],
      [4096, 9],
    ];
  return [
    [256, 1],
    [768, 5],
    [2304, 37],
  ];
}

async function run(t: WeightType, k: number, n: number, m: number, v: MatvecVariant, maxPartBytes?: number) {
  const { device } = await testGpu();
  const bytes = randomWeightBytes(t, n, k, k * 131 + n);
  const w = uploadTensor(device, { name: 'w', type: t, shape: [k, n] }, bytes, { maxPartBytes });
  const x = randomF32(m * k, k + 7);
  const xb = uploadStorage(device, x, 'x');
  const yb = createStorage(device, m * n * 4, 'y');
  await submitChecked(device, (enc) => encodeMatvec(device, enc, { w, x: xb, y: yb, m }, v));
  const got = await readF32(device, yb, m * n);
  const want = matmulRef(dequantizeRowsRef(t, bytes, n, k), x, m, k, n);
  return { err: relMaxErr(got, want), parts: w.parts.length };
}

describe('quantized matvec', () => {
  for (const t of ALL_WEIGHT_TYPES) {
    for (const [k, n] of shapes(t)) {
      it(`${t} [K ${k}, N ${n}] f32, shared-memory reduction`, async () => {
        const { err } = await run(t, k, n, 1, { f16: false, subgroups: false });
        expect(err).toBeLessThan(1e-5);
      });
    }
    it(`${t} one invocation per row (software-adapter variant), 2 vectors, split across parts`, async () => {
      for (const [k, n] of shapes(t)) {
        const { err } = await run(
          t,
          k,
          n,
          2,
          { f16: false, perRow: true, wg: 16 },
          5 * WEIGHT_TYPES[t].blockBytes * Math.ceil(k / WEIGHT_TYPES[t].blockValues),
        );
        expect(err).toBeLessThan(1e-5);
      }
    });
    it(`${t} subgroups when present, 2 vectors`, async () => {
      const { info } = await testGpu();
      const [k, n] = shapes(t)[2];
      const { err } = await run(t, k, n, 2, { f16: false, subgroups: info.hasSubgroups });
      expect(err).toBeLessThan(1e-5);
    });
    it(`${t} split across parts of a few rows`, async () => {
      const [k, n] = shapes(t)[2];
      const { err, parts } = await run(t, k, n, 1, { f16: false }, 5 * WEIGHT_TYPES[t].blockBytes * (k / WEIGHT_TYPES[t].blockValues));
      expect(parts).toBe(Math.ceil(n / 5));
      expect(err).toBeLessThan(1e-5);
    });
    it(`${t} f16 arithmetic where shader-f16 exists, a typed refusal where not`, async () => {
      const { info } = await testGpu();
      const [k, n] = shapes(t)[2];
      if (!info.hasF16) {
        await expect(run(t, k, n, 1, { f16: true })).rejects.toMatchObject({ code: 'device-limits' });
        return;
      }
      const { err } = await run(t, k, n, 1, { f16: true });
      expect(err).toBeLessThan(5e-3);
    });
  }

  /** The fused epilogues against their unfused references: gate+up+SwiGLU, and y += W·x. */
  async function runFused(t: WeightType, k: number, n: number, m: number, v: MatvecVariant, maxPartBytes?: number) {
    const { device } = await testGpu();
    const gateBytes = randomWeightBytes(t, n, k, k * 7 + n);
    const upBytes = randomWeightBytes(t, n, k, k * 11 + n);
    const opts = { maxPartBytes };
    const w = uploadTensor(device, { name: 'gate', type: t, shape: [k, n] }, gateBytes, opts);
    const w2 = uploadTensor(device, { name: 'up', type: t, shape: [k, n] }, upBytes, opts);
    const x = randomF32(m * k, k + 3);
    const y0 = randomF32(m * n, n + 5);
    const xb = uploadStorage(device, x, 'x');
    const pairY = createStorage(device, m * n * 4, 'y-pair');
    const accY = uploadStorage(device, y0, 'y-acc');
    await submitChecked(device, (enc) => {
      encodeMatvec(device, enc, { w, w2, x: xb, y: pairY, m }, v);
      encodeMatvec(device, enc, { w, x: xb, y: accY, m, accumulate: true }, v);
    });
    const gate = matmulRef(dequantizeRowsRef(t, gateBytes, n, k), x, m, k, n);
    const up = matmulRef(dequantizeRowsRef(t, upBytes, n, k), x, m, k, n);
    return {
      pairErr: relMaxErr(await readF32(device, pairY, m * n), swigluRef(gate, up)),
      accErr: relMaxErr(
        await readF32(device, accY, m * n),
        gate.map((g, i) => g + y0[i]),
      ),
      parts: w.parts.length,
    };
  }

  for (const t of ['Q4_K', 'Q8_0', 'Q6_K', 'F16', 'F32'] as const) {
    for (const name of ['rows per workgroup', 'subgroups when present', 'one invocation per row'] as const) {
      it(`${t} fused gate+up+SwiGLU and residual add, ${name}, 2 vectors, split in parts`, async () => {
        const [k, n] = shapes(t)[2];
        const { info } = await testGpu();
        const variant: MatvecVariant =
          name === 'one invocation per row' ? { perRow: true, wg: 16 } : { subgroups: name === 'subgroups when present' && info.hasSubgroups };
        const r = await runFused(t, k, n, 2, variant, 5 * WEIGHT_TYPES[t].blockBytes * Math.ceil(k / WEIGHT_TYPES[t].blockValues));
        expect(r.parts).toBeGreaterThan(1);
        expect(r.pairErr).toBeLessThan(1e-5);
        expect(r.accErr).toBeLessThan(1e-5);
      });
    }
  }

  it('a pair whose weights differ in type or parts is refused with a typed error', async () => {
    const { device } = await testGpu();
    const w = uploadTensor(device, { name: 'gate', type: 'Q8_0', shape: [64, 8] }, randomWeightBytes('Q8_0', 8, 64, 1));
    const w2 = uploadTensor(device, { name: 'up', type: 'Q8_0', shape: [64, 8] }, randomWeightBytes('Q8_0', 8, 64, 2), { maxPartBytes: 4 * 68 });
    const x = createStorage(device, 64 * 4, 'x');
    const y = createStorage(device, 8 * 4, 'y');
    expect(() => encodeMatvec(device, device.createCommandEncoder(), { w, w2, x, y })).toThrow(expect.objectContaining({ code: 'wrong-shape' }));
  });
});
