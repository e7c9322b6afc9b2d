// The fused MoE decode parts of the gathered matvec, each against its naive CPU version: ROUTE (the router
// computed in the kernel from the logits, moe-router.ref.ts), SHARED (the shared expert as one more slot of
// the gate/up, one more term of the down's combine) and NORM_OUT (a normed matvec writing the normed x,
// rmsnorm.ref.ts), for every variant.
import { describe, expect, it } from 'vitest';
import { testGpu, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, createStorage, readF32 } from '../../buffers.ts';
import { WEIGHT_TYPES, type WeightType } from '../common/quant-types.ts';
import { randomWeightBytes, submitChecked } from '../common/quant-testing.ts';
import { dequantizeRowsRef } from '../common/blocks.ref.ts';
import { uploadTensor } from '../common/tensor.ts';
import { encodeGatherMatvec, encodeMatvec, type MatvecVariant } from './matvec.ts';
import { gatherMatvecRef, matmulRef, relMaxErr } from './matmul.ref.ts';
import { routeRef, type RouterOptions } from '../moe-router/moe-router.ref.ts';
import { rmsnormRef } from '../rmsnorm/rmsnorm.ref.ts';
import { swigluRef } from '../swiglu/swiglu.ref.ts';

async function variants(): Promise<[string, MatvecVariant][]> {
  const { info } = await testGpu();
  return [
    ['rows per workgroup', { subgroups: info.hasSubgroups }],
    ['one invocation per row', { perRow: true, wg: 16 }],
    ['2 rows per invocation', { perRow: true, wg: 8, rowsPerInvocation: 2 }],
  ];
}

const ROUTERS: [string, RouterOptions][] = [
  ['softmax, normalised', { gating: 'softmax', topK: 2, groupCount: 1, groupsUsed: 1, normalize: true, scale: 1 }],
  ['sigmoid + bias, 4 groups keep 2, scaled', { gating: 'sigmoid', topK: 3, groupCount: 4, groupsUsed: 2, normalize: true, scale: 2.5 }],
];

describe('fused MoE decode matvecs', () => {
  const [E, F, FS, X, T] = [256, 64, 96, 8, 2]; // x width, expert width, shared width (> F), experts, tokens
  for (const [rname, o] of ROUTERS) {
    it(`routed gate/up + shared gate/up, then down + combine + shared down, router in the kernel (${rname})`, async () => {
      const { device } = await testGpu();
      const k = o.topK;
      const deq = (t: WeightType, b: Uint8Array, rows: number, kk: number) => dequantizeRowsRef(t, b, rows, kk);
      const up = (name: string, t: WeightType, shape: number[], seed: number) => {
        const rows = shape.slice(1).reduce((a, b) => a * b, 1);
        const bytes = randomWeightBytes(t, rows, shape[0], seed);
        return { t: uploadTensor(device, { name, type: t, shape }, bytes), f: deq(t, bytes, rows, shape[0]) };
      };
      // routed experts Q4_K (gate, up) and Q8_0 (down); the shared expert Q8_0 (gate, up) and F16 (down)
      const g = up('ffn_gate_exps', 'Q4_K', [E, F, X], 1);
      const u = up('ffn_up_exps', 'Q4_K', [E, F, X], 2);
      const d = up('ffn_down_exps', 'Q8_0', [F, E, X], 3);
      const sg = up('ffn_gate_shexp', 'Q8_0', [E, FS], 4);
      const su = up('ffn_up_shexp', 'Q8_0', [E, FS], 5);
      const sd = up('ffn_down_shexp', 'F16', [FS, E], 6);
      const logits = randomF32(T * X, 7, 3);
      const bias = randomF32(X, 8, 0.5);
      const xs = randomF32(T * E, 9);
      const h0 = randomF32(T * E, 10);
      // CPU: route each token, then its experts and the shared expert
      const routes = Array.from({ length: T }, (_, t) => routeRef(logits.subarray(t * X, (t + 1) * X), bias, o));
      const ids = Uint32Array.from(routes.flatMap((r) => Array.from(r.experts)));
      const act = swigluRef(gatherMatvecRef(g.f, ids, xs, E, F, X, k), gatherMatvecRef(u.f, ids, xs, E, F, X, k));
      const sAct = swigluRef(matmulRef(sg.f, xs, T, E, FS), matmulRef(su.f, xs, T, E, FS));
      const down = gatherMatvecRef(d.f, ids, act, F, E, X, 1);
      const sDown = matmulRef(sd.f, sAct, T, FS, E);
      const want = h0.map((v, i) => {
        const [t, row] = [Math.floor(i / E), i % E];
        let s = 0;
        for (let j = 0; j < k; j++) s += routes[t].weights[j] * down[(t * k + j) * E + row];
        return v + s + sDown[i];
      });
      // GPU: R = [logits | bias]; y of the gate/up = [T·k, F] routed rows then [T, FS] shared rows
      const R = uploadStorage(device, Float32Array.from([...logits, ...bias]), 'R');
      const route = { logits: R, biasAt: T * X, experts: X, options: o };
      const xb = uploadStorage(device, xs, 'x');
      for (const [name, v] of await variants()) {
        const yAt = T * k * F;
        const y = createStorage(device, (yAt + T * FS) * 4, 'act');
        const h = uploadStorage(device, h0, 'h');
        await submitChecked(device, (enc) => {
          encodeGatherMatvec(
            device,
            enc,
            { w: g.t, w2: u.t, x: xb, y, slots: T * k, xDiv: k, route, shared: { w: sg.t, w2: su.t, yAt } },
            { f16: false, ...v },
          );
          encodeGatherMatvec(
            device,
            enc,
            { w: d.t, x: y, y: h, slots: T * k, xDiv: 1, combine: { terms: k }, route, shared: { w: sd.t, xAt: yAt } },
            { f16: false, ...v },
          );
        });
        const got = await readF32(device, y, yAt + T * FS);
        expect(relMaxErr(got.subarray(0, yAt), act), `${name}: routed act`).toBeLessThan(1e-5);
        expect(relMaxErr(got.subarray(yAt), sAct), `${name}: shared act`).toBeLessThan(1e-5);
        expect(relMaxErr(await readF32(device, h, T * E), want), `${name}: h`).toBeLessThan(1e-5);
      }
    });
  }

  it('a normed matvec also writes the normed x (NORM_OUT), 2 vectors, every variant, split in parts', async () => {
    const { device } = await testGpu();
    const [t, k, n, m, eps] = ['Q8_0', 96, 13, 2, 1e-6] as const;
    const bytes = randomWeightBytes(t, n, k, 21);
    const w = uploadTensor(device, { name: 'ffn_gate_inp', type: t, shape: [k, n] }, bytes, { maxPartBytes: 5 * WEIGHT_TYPES[t].blockBytes * (k / 32) });
    const hs = randomF32(m * k, 22).map((v) => 30 * v);
    const gs = randomF32(k, 23).map((v) => 1 + v);
    const xn = rmsnormRef(hs, gs, m, k, eps);
    const want = matmulRef(dequantizeRowsRef(t, bytes, n, k), xn, m, k, n);
    const [hb, norm] = [uploadStorage(device, hs, 'h'), { weight: uploadStorage(device, gs, 'g'), eps }];
    for (const [name, v] of await variants()) {
      const [y, out] = [createStorage(device, m * n * 4, 'y'), createStorage(device, m * k * 4, 'xn')];
      await submitChecked(device, (enc) => encodeMatvec(device, enc, { w, x: hb, y, m, norm, normOut: out }, { f16: false, ...v }));
      expect(w.parts.length).toBeGreaterThan(1);
      expect(relMaxErr(await readF32(device, y, m * n), want), `${name}: y`).toBeLessThan(1e-5);
      expect(relMaxErr(await readF32(device, out, m * k), xn), `${name}: normed x`).toBeLessThan(1e-6);
    }
  });
});
