// RMSNorm on load (MatvecArgs.norm): the matvec of un-normed rows h against RMSNorm(h)·g then the plain
// product, both on the CPU (rmsnorm.ref.ts, matmul.ref.ts), for each variant and each epilogue.
import { describe, expect, it } from 'vitest';
import { testGpu, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, createStorage, readF32 } from '../../buffers.ts';
import { rowBytes, WEIGHT_TYPES, type WeightType } from '../common/quant-types.ts';
import { randomWeightBytes, submitChecked } from '../common/quant-testing.ts';
import { dequantizeRowsRef } from '../common/blocks.ref.ts';
import { uploadTensor } from '../common/tensor.ts';
import { encodeGatherMatvec, encodeMatvec, type MatvecVariant } from './matvec.ts';
import { gatherMatvecRef, matmulRef, relMaxErr } from './matmul.ref.ts';
import { rmsnormRef } from '../rmsnorm/rmsnorm.ref.ts';
import { swigluRef } from '../swiglu/swiglu.ref.ts';

const EPS = 1e-6;

async function variants(): Promise<[string, MatvecVariant][]> {
  const { info } = await testGpu();
  return [
    ['rows per workgroup', { subgroups: false }],
    ['subgroups when present', { subgroups: info.hasSubgroups }],
    ['one invocation per row', { perRow: true, wg: 16 }],
    // the software adapters' default: 2 rows per invocation, the norm summed while x streams (NORM_STREAM)
    ['2 rows per invocation', { perRow: true, wg: 8, rowsPerInvocation: 2 }],
  ];
}

describe('matvec with RMSNorm on load', () => {
  // K = 7: a float row with a tail (x read as scalars); 96 / 768: x as vec4 (few cases: llvmpipe compiles each variant for seconds)
  const cases: [WeightType, number, number][] = [
    ['Q4_K', 768, 37],
    ['Q8_0', 96, 5],
    ['F32', 7, 9],
  ];
  for (const [t, k, n] of cases) {
    it(`${t} [K ${k}, N ${n}]: plain, gate+up+SwiGLU and residual add, 2 vectors, every variant, split in parts`, async () => {
      const { device } = await testGpu();
      const m = 2;
      const opts = { maxPartBytes: 4 * WEIGHT_TYPES[t].blockBytes * Math.ceil(k / WEIGHT_TYPES[t].blockValues) };
      const gateBytes = randomWeightBytes(t, n, k, k * 5 + n);
      const upBytes = randomWeightBytes(t, n, k, k * 9 + n);
      const w = uploadTensor(device, { name: 'gate', type: t, shape: [k, n] }, gateBytes, opts);
      const w2 = uploadTensor(device, { name: 'up', type: t, shape: [k, n] }, upBytes, opts);
      // h far from unit scale, so a missing or doubled norm shows
      const h = randomF32(m * k, k + 1).map((v) => 40 * v);
      const g = randomF32(k, k + 2).map((v) => 1 + v);
      const y0 = randomF32(m * n, n + 3);
      const hb = uploadStorage(device, h, 'h');
      const norm = { weight: uploadStorage(device, g, 'g'), eps: EPS };
      const xn = rmsnormRef(h, g, m, k, EPS);
      const gate = matmulRef(dequantizeRowsRef(t, gateBytes, n, k), xn, m, k, n);
      const up = matmulRef(dequantizeRowsRef(t, upBytes, n, k), xn, m, k, n);
      for (const [name, v] of await variants()) {
        const plain = createStorage(device, m * n * 4, 'plain');
        const pair = createStorage(device, m * n * 4, 'pair');
        const acc = uploadStorage(device, y0, 'acc');
        await submitChecked(device, (enc) => {
          encodeMatvec(device, enc, { w, x: hb, y: plain, m, norm }, { f16: false, ...v });
          encodeMatvec(device, enc, { w, w2, x: hb, y: pair, m, norm }, { f16: false, ...v });
          encodeMatvec(device, enc, { w, x: hb, y: acc, m, norm, accumulate: true }, { f16: false, ...v });
        });
        expect(w.parts.length, name).toBeGreaterThan(1);
        expect(relMaxErr(await readF32(device, plain, m * n), gate), name).toBeLessThan(1e-5);
        expect(relMaxErr(await readF32(device, pair, m * n), swigluRef(gate, up)), name).toBeLessThan(1e-5);
        expect(
          relMaxErr(
            await readF32(device, acc, m * n),
            gate.map((v, i) => v + y0[i]),
          ),
          name,
        ).toBeLessThan(1e-5);
      }
    });
  }

  it('gathered experts read one normed x per token (gate+up+SwiGLU and plain), every variant', async () => {
    const { device } = await testGpu();
    const [t, k, n, x, ids] = ['Q4_K', 512, 21, 6, [3, 5, 0, 3, 1, 4]] as const;
    const tokens = ids.length / 2;
    const opts = { maxPartBytes: 2 * n * rowBytes(t, k) };
    const gateBytes = randomWeightBytes(t, n * x, k, 31);
    const upBytes = randomWeightBytes(t, n * x, k, 32);
    const w = uploadTensor(device, { name: 'ffn_gate_exps', type: t, shape: [k, n, x] }, gateBytes, opts);
    const w2 = uploadTensor(device, { name: 'ffn_up_exps', type: t, shape: [k, n, x] }, upBytes, opts);
    const h = randomF32(tokens * k, 33).map((v) => 25 * v);
    const g = randomF32(k, 34).map((v) => 1 + v);
    const idArr = new Uint32Array(ids);
    const idb = uploadStorage(device, idArr, 'ids');
    const hb = uploadStorage(device, h, 'h');
    const norm = { weight: uploadStorage(device, g, 'g'), eps: EPS };
    const xn = rmsnormRef(h, g, tokens, k, EPS);
    const gate = gatherMatvecRef(dequantizeRowsRef(t, gateBytes, n * x, k), idArr, xn, k, n, x, 2, 0);
    const up = gatherMatvecRef(dequantizeRowsRef(t, upBytes, n * x, k), idArr, xn, k, n, x, 2, 0);
    for (const [name, v] of await variants()) {
      const plain = createStorage(device, ids.length * n * 4, 'plain');
      const pair = createStorage(device, ids.length * n * 4, 'pair');
      await submitChecked(device, (enc) => {
        encodeGatherMatvec(device, enc, { w, ids: idb, x: hb, y: plain, slots: ids.length, xDiv: 2, norm }, { f16: false, ...v });
        encodeGatherMatvec(device, enc, { w, w2, ids: idb, x: hb, y: pair, slots: ids.length, xDiv: 2, norm }, { f16: false, ...v });
      });
      expect(relMaxErr(await readF32(device, plain, ids.length * n), gate), name).toBeLessThan(1e-5);
      expect(relMaxErr(await readF32(device, pair, ids.length * n), swigluRef(gate, up)), name).toBeLessThan(1e-5);
    }
  });

  it('x rows that are the front of wider rows cannot be normed: a typed refusal', async () => {
    const { device } = await testGpu();
    const w = uploadTensor(device, { name: 'k_b', type: 'Q8_0', shape: [64, 8, 2] }, randomWeightBytes('Q8_0', 16, 64, 1));
    const buf = (floats: number) => createStorage(device, floats * 4, 'b');
    const a = {
      w,
      ids: uploadStorage(device, new Uint32Array([0, 1]), 'ids'),
      x: buf(256),
      y: buf(16),
      slots: 2,
      xDiv: 1,
      xStride: 96,
      norm: { weight: buf(64), eps: EPS },
    };
    expect(() => encodeGatherMatvec(device, device.createCommandEncoder(), a)).toThrow(expect.objectContaining({ code: 'bad-argument' }));
  });
});
