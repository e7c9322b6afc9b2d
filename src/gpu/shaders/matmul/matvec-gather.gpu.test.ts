import { describe, expect, it } from 'vitest';
import { testGpu, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, createStorage, readF32 } from '../../buffers.ts';
import { rowBytes, type WeightType } from '../common/quant-types.ts';
import { randomWeightBytes, submitChecked } from '../common/quant-testing.ts';
import { dequantizeRowsRef } from '../common/blocks.ref.ts';
import { uploadTensor } from '../common/tensor.ts';
import { encodeGatherMatvec, type MatvecVariant } from './matvec.ts';
import { gatherMatvecRef, relMaxErr } from './matmul.ref.ts';
import { swigluRef } from '../swiglu/swiglu.ref.ts';

const SENTINEL = -12345;

/** An expert tensor {K, N, X} whose unchosen experts hold NaN everywhere: reading one would show. */
function expertBytes(t: WeightType, k: number, n: number, x: number, chosen: Set<number>, seed: number): Uint8Array {
  const bytes = randomWeightBytes(t, n * x, k, seed);
  const eb = n * rowBytes(t, k);
  for (let e = 0; e < x; e++) if (!chosen.has(e)) bytes.fill(0xff, e * eb, (e + 1) * eb); // 0xffff is an f16/f32 NaN
  return bytes;
}

async function run(t: WeightType, k: number, n: number, x: number, ids: number[], xDiv: number, maxExpertsPerPart?: number, v: MatvecVariant = {}) {
  const { device, info } = await testGpu();
  const chosen = new Set(ids.filter((e) => e < x));
  const bytes = expertBytes(t, k, n, x, chosen, k + n + x);
  const w = uploadTensor(
    device,
    { name: 'ffn_up_exps', type: t, shape: [k, n, x] },
    bytes,
    maxExpertsPerPart ? { maxPartBytes: maxExpertsPerPart * n * rowBytes(t, k) } : {},
  );
  const slots = ids.length;
  const xs = randomF32((slots / xDiv) * k, 17);
  const y = createStorage(device, slots * n * 4, 'y');
  device.queue.writeBuffer(y, 0, new Float32Array(slots * n).fill(SENTINEL));
  await submitChecked(device, (enc) =>
    encodeGatherMatvec(
      device,
      enc,
      { w, ids: uploadStorage(device, new Uint32Array(ids), 'ids'), x: uploadStorage(device, xs, 'x'), y, slots, xDiv },
      { f16: false, subgroups: info.hasSubgroups, ...v },
    ),
  );
  const got = await readF32(device, y, slots * n);
  // Reference on the chosen experts only (the others are NaN).
  const want = gatherMatvecRef(
    dequantizeRowsRef(t, bytes, n * x, k).map((v) => (Number.isNaN(v) ? 0 : v)),
    new Uint32Array(ids),
    xs,
    k,
    n,
    x,
    xDiv,
    SENTINEL,
  );
  return { err: relMaxErr(got, want), parts: w.parts.length };
}

describe('gathered (MoE) matvec', () => {
  it('Q4_K, 3 tokens x top-2 of 8 experts, x shared per token (gate/up)', async () => {
    const { err } = await run('Q4_K', 512, 37, 8, [3, 5, 0, 3, 7, 6], 2);
    expect(err).toBeLessThan(1e-5);
  });
  it('Q8_0, one x per slot (down), experts split 3 per part', async () => {
    const { err, parts } = await run('Q8_0', 96, 13, 8, [1, 4, 4, 7, 2], 1, 3);
    expect(parts).toBe(3);
    expect(err).toBeLessThan(1e-5);
  });
  it('Q6_K and F16 split one expert per part, with an out-of-range id left untouched', async () => {
    for (const t of ['Q6_K', 'F16'] as const) {
      const { err, parts } = await run(t, 256, 5, 4, [2, 9, 0], 1, 1);
      expect(parts).toBe(4);
      expect(err).toBeLessThan(1e-5);
    }
  });
  it('one invocation per row (software-adapter variant): Q4_K gate/up and Q8_0 split 3 experts per part', async () => {
    expect((await run('Q4_K', 512, 37, 8, [3, 5, 0, 3, 7, 6], 2, undefined, { perRow: true, wg: 16 })).err).toBeLessThan(1e-5);
    const split = await run('Q8_0', 96, 13, 8, [1, 4, 4, 7, 2, 9], 1, 3, { perRow: true, wg: 8 });
    expect(split.parts).toBe(3);
    expect(split.err).toBeLessThan(1e-5);
  });
  it('fused gate+up+SwiGLU over the chosen experts, both variants, experts split 2 per part', async () => {
    const { device, info } = await testGpu();
    const [t, k, n, x, ids] = ['Q4_K', 512, 37, 8, [3, 5, 0, 3, 7, 6]] as const;
    const chosen = new Set<number>(ids);
    const gateBytes = expertBytes(t, k, n, x, chosen, 5);
    const upBytes = expertBytes(t, k, n, x, chosen, 6);
    const opts = { maxPartBytes: 2 * n * rowBytes(t, k) };
    const w = uploadTensor(device, { name: 'ffn_gate_exps', type: t, shape: [k, n, x] }, gateBytes, opts);
    const w2 = uploadTensor(device, { name: 'ffn_up_exps', type: t, shape: [k, n, x] }, upBytes, opts);
    const xs = randomF32((ids.length / 2) * k, 23);
    const idb = uploadStorage(device, new Uint32Array(ids), 'ids');
    const xb = uploadStorage(device, xs, 'x');
    const deq = (b: Uint8Array) => dequantizeRowsRef(t, b, n * x, k).map((v) => (Number.isNaN(v) ? 0 : v));
    const gate = gatherMatvecRef(deq(gateBytes), new Uint32Array(ids), xs, k, n, x, 2, 0);
    const up = gatherMatvecRef(deq(upBytes), new Uint32Array(ids), xs, k, n, x, 2, 0);
    for (const v of [{ subgroups: info.hasSubgroups }, { perRow: true, wg: 16 }]) {
      const y = createStorage(device, ids.length * n * 4, 'y');
      await submitChecked(device, (enc) => encodeGatherMatvec(device, enc, { w, w2, ids: idb, x: xb, y, slots: ids.length, xDiv: 2 }, { f16: false, ...v }));
      expect(relMaxErr(await readF32(device, y, ids.length * n), swigluRef(gate, up))).toBeLessThan(1e-5);
    }
  });
  it('x rows read in place from wider rows (MLA q_nope inside q), both variants', async () => {
    const { device, info } = await testGpu();
    const [t, k, n, x, stride] = ['Q8_0', 128, 16, 4, 192] as const;
    const ids = [0, 1, 2, 3, 0, 1, 2, 3]; // slot j = token j / 4, head j % 4
    const bytes = randomWeightBytes(t, n * x, k, 77);
    const w = uploadTensor(device, { name: 'attn_k_b', type: t, shape: [k, n, x] }, bytes);
    const wide = randomF32(ids.length * stride, 31);
    const compact = Float32Array.from({ length: ids.length * k }, (_, i) => wide[Math.floor(i / k) * stride + (i % k)]);
    const want = gatherMatvecRef(dequantizeRowsRef(t, bytes, n * x, k), new Uint32Array(ids), compact, k, n, x, 1, 0);
    const idb = uploadStorage(device, new Uint32Array(ids), 'ids');
    const xb = uploadStorage(device, wide, 'q');
    for (const v of [{ subgroups: info.hasSubgroups }, { perRow: true, wg: 8 }]) {
      const y = createStorage(device, ids.length * n * 4, 'y');
      await submitChecked(device, (enc) =>
        encodeGatherMatvec(device, enc, { w, ids: idb, x: xb, xStride: stride, y, slots: ids.length, xDiv: 1 }, { f16: false, ...v }),
      );
      expect(relMaxErr(await readF32(device, y, ids.length * n), want)).toBeLessThan(1e-5);
    }
  });
  it('down projection + weighted combine into the residual (COMBINE), both variants, experts split 2 per part, an out-of-range id skipped', async () => {
    const { device, info } = await testGpu();
    const [t, k, n, x, terms] = ['Q4_K', 512, 37, 8, 2] as const;
    const ids = [3, 5, 0, 3, 7, 99]; // token 2's second slot names no expert: it adds nothing
    const tokens = ids.length / terms;
    const chosen = new Set<number>(ids.filter((e) => e < x));
    const bytes = expertBytes(t, k, n, x, chosen, 9);
    const w = uploadTensor(device, { name: 'ffn_down_exps', type: t, shape: [k, n, x] }, bytes, { maxPartBytes: 2 * n * rowBytes(t, k) });
    const act = randomF32(ids.length * k, 41);
    const weights = randomF32(ids.length, 42).map((v) => 0.5 + v);
    const h0 = randomF32(tokens * n, 43);
    const idArr = new Uint32Array(ids);
    const per = gatherMatvecRef(
      dequantizeRowsRef(t, bytes, n * x, k).map((v) => (Number.isNaN(v) ? 0 : v)),
      idArr,
      act,
      k,
      n,
      x,
      1,
      0,
    );
    const want = h0.map((v, i) => {
      const [tok, row] = [Math.floor(i / n), i % n];
      let s = 0;
      for (let j = 0; j < terms; j++) s += weights[tok * terms + j] * per[(tok * terms + j) * n + row];
      return v + s;
    });
    const [idb, xb, wb] = [uploadStorage(device, idArr, 'ids'), uploadStorage(device, act, 'act'), uploadStorage(device, weights, 'weights')];
    for (const v of [{ subgroups: info.hasSubgroups }, { perRow: true, wg: 16 }]) {
      const y = uploadStorage(device, h0, 'h');
      await submitChecked(device, (enc) =>
        encodeGatherMatvec(device, enc, { w, ids: idb, x: xb, y, slots: ids.length, xDiv: 1, combine: { weights: wb, terms } }, { f16: false, ...v }),
      );
      expect(relMaxErr(await readF32(device, y, tokens * n), want), JSON.stringify(v)).toBeLessThan(1e-5);
    }
    const bad = { w, ids: idb, x: xb, y: xb, slots: ids.length, xDiv: 2, combine: { weights: wb, terms } };
    expect(() => encodeGatherMatvec(device, device.createCommandEncoder(), bad)).toThrow(expect.objectContaining({ code: 'bad-argument' }));
  });
});
