/**
 * Every matvec variant the tuner may choose (tune.ts: matvecCandidates for software adapters and GPUs),
 * against the CPU reference: every weight type plain (2 vectors, split across parts, N off the
 * workgroup's row count), the fused gate+up+SwiGLU and residual add, and the gathered (MoE) product with
 * its fused pair, unchosen experts filled with NaN so a stray read shows. Where a candidate quantizes x
 * (q8x: matvec-q8x.ts), the reference rounds x as llama.cpp does (activation-quant.ts) and stays this tight.
 */
import { describe, expect, it } from 'vitest';
import { testGpu, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, createStorage, readF32 } from '../../buffers.ts';
import { ALL_WEIGHT_TYPES, WEIGHT_TYPES, isFloatType, rowBytes, type WeightType } from '../common/quant-types.ts';
import { randomWeightBytes, submitChecked } from '../common/quant-testing.ts';
import { dequantizeRowsRef } from '../common/blocks.ref.ts';
import { uploadTensor } from '../common/tensor.ts';
import { encodeMatvec, encodeGatherMatvec, matvecQuantizesX, type MatvecVariant } from './matvec.ts';
import { GgmlType } from '../../../gguf/types.ts';
import { activationRounding } from '../../../model/reference/activation-quant.ts';
import { matmulRef, gatherMatvecRef, relMaxErr } from './matmul.ref.ts';
import { swigluRef } from '../swiglu/swiglu.ref.ts';
import { matvecCandidates, type MatvecCandidate } from './tune.ts';

/** The candidates of both adapter kinds, with subgroups as this device has them (deduplicated). */
async function candidates(): Promise<MatvecCandidate[]> {
  const { info } = await testGpu();
  const all = [true, false].flatMap((software) => matvecCandidates({ software, hasSubgroups: info.hasSubgroups }));
  return [...new Map(all.map((c) => [JSON.stringify(c.variant), c])).values()];
}

/** [K, N]: a tail chunk for float rows, N not a multiple of any variant's rows per workgroup. */
function shape(t: WeightType): [number, number] {
  if (isFloatType(t)) return [1000, 37];
  return WEIGHT_TYPES[t].blockValues === 32 ? [1056, 37] : [768, 37];
}

const partBytes = (t: WeightType, k: number) => 5 * rowBytes(t, k); // parts of 5 rows

/** x as the variant multiplies it: rounded per vector as llama.cpp rounds it where the variant quantizes x. */
function xAsUsed(device: GPUDevice, v: MatvecVariant, t: WeightType, x: Float32Array, m: number, k: number): Float32Array {
  if (!matvecQuantizesX(device, v, t, k, m)) return x;
  const round = activationRounding(GgmlType[t as keyof typeof GgmlType])!;
  const out = new Float32Array(m * k);
  for (let i = 0; i < m; i++) out.set(round(x.subarray(i * k, (i + 1) * k)), i * k);
  return out;
}

async function plain(t: WeightType, v: MatvecVariant) {
  const { device } = await testGpu();
  const [k, n] = shape(t);
  const m = 2;
  const bytes = randomWeightBytes(t, n, k, k * 131 + n);
  const w = uploadTensor(device, { name: 'w', type: t, shape: [k, n] }, bytes, { maxPartBytes: partBytes(t, k) });
  const x = randomF32(m * k, k + 7);
  const y = createStorage(device, m * n * 4, 'y');
  await submitChecked(device, (enc) => encodeMatvec(device, enc, { w, x: uploadStorage(device, x, 'x'), y, m }, { f16: false, ...v }));
  expect(w.parts.length).toBeGreaterThan(1);
  return relMaxErr(await readF32(device, y, m * n), matmulRef(dequantizeRowsRef(t, bytes, n, k), xAsUsed(device, v, t, x, m, k), m, k, n));
}

async function fused(t: WeightType, v: MatvecVariant) {
  const { device } = await testGpu();
  const [k, n] = shape(t);
  const m = 2;
  const gateBytes = randomWeightBytes(t, n, k, k * 7 + n);
  const upBytes = randomWeightBytes(t, n, k, k * 11 + n);
  const opts = { maxPartBytes: partBytes(t, k) };
  const w = uploadTensor(device, { name: 'gate', type: t, shape: [k, n] }, gateBytes, opts);
  const w2 = uploadTensor(device, { name: 'up', type: t, shape: [k, n] }, upBytes, opts);
  const x = randomF32(m * k, k + 3);
  const y0 = randomF32(m * n, n + 5);
  const xb = uploadStorage(device, x, 'x');
  const pairY = createStorage(device, m * n * 4, 'y-pair');
  const accY = uploadStorage(device, y0, 'y-acc');
  await submitChecked(device, (enc) => {
    encodeMatvec(device, enc, { w, w2, x: xb, y: pairY, m }, { f16: false, ...v });
    encodeMatvec(device, enc, { w, x: xb, y: accY, m, accumulate: true }, { f16: false, ...v });
  });
  const xu = xAsUsed(device, v, t, x, m, k);
  const gate = matmulRef(dequantizeRowsRef(t, gateBytes, n, k), xu, m, k, n);
  const up = matmulRef(dequantizeRowsRef(t, upBytes, n, k), xu, m, k, n);
  return {
    pair: relMaxErr(await readF32(device, pairY, m * n), swigluRef(gate, up)),
    acc: relMaxErr(
      await readF32(device, accY, m * n),
      gate.map((g, i) => g + y0[i]),
    ),
  };
}

const SENTINEL = -12345;

function expertBytes(t: WeightType, k: number, n: number, x: number, chosen: Set<number>, seed: number): Uint8Array {
  const bytes = randomWeightBytes(t, n * x, k, seed);
  const eb = n * rowBytes(t, k);
  for (let e = 0; e < x; e++) if (!chosen.has(e)) bytes.fill(0xff, e * eb, (e + 1) * eb); // NaN weights
  return bytes;
}

/** 3 tokens × top-2 of 8 experts (one id out of range), experts split 3 per part; plain and paired. */
async function gathered(t: WeightType, v: MatvecVariant) {
  const { device } = await testGpu();
  const [k, n, x] = [shape(t)[0], 21, 8];
  const ids = [3, 5, 0, 9, 7, 6];
  const chosen = new Set(ids.filter((e) => e < x));
  const gateBytes = expertBytes(t, k, n, x, chosen, 5);
  const upBytes = expertBytes(t, k, n, x, chosen, 6);
  const opts = { maxPartBytes: 3 * n * rowBytes(t, k) };
  const w = uploadTensor(device, { name: 'gate_exps', type: t, shape: [k, n, x] }, gateBytes, opts);
  const w2 = uploadTensor(device, { name: 'up_exps', type: t, shape: [k, n, x] }, upBytes, opts);
  const xs = randomF32((ids.length / 2) * k, 23);
  const idb = uploadStorage(device, new Uint32Array(ids), 'ids');
  const xb = uploadStorage(device, xs, 'x');
  const fill = new Float32Array(ids.length * n).fill(SENTINEL);
  const y = uploadStorage(device, fill, 'y');
  const yPair = uploadStorage(device, fill, 'y-pair');
  await submitChecked(device, (enc) => {
    encodeGatherMatvec(device, enc, { w, ids: idb, x: xb, y, slots: ids.length, xDiv: 2 }, { f16: false, ...v });
    encodeGatherMatvec(device, enc, { w, w2, ids: idb, x: xb, y: yPair, slots: ids.length, xDiv: 2 }, { f16: false, ...v });
  });
  const deq = (b: Uint8Array) => dequantizeRowsRef(t, b, n * x, k).map((z) => (Number.isNaN(z) ? 0 : z));
  const gate = gatherMatvecRef(deq(gateBytes), new Uint32Array(ids), xs, k, n, x, 2, SENTINEL);
  const up = gatherMatvecRef(deq(upBytes), new Uint32Array(ids), xs, k, n, x, 2, SENTINEL);
  const pairWant = gate.map((g, i) => (g === SENTINEL ? SENTINEL : swigluRef(Float32Array.of(g), Float32Array.of(up[i]))[0]));
  expect(w.parts.length).toBe(3);
  return { plain: relMaxErr(await readF32(device, y, ids.length * n), gate), pair: relMaxErr(await readF32(device, yPair, ids.length * n), pairWant) };
}

describe('tuned matvec candidates against the CPU reference', async () => {
  for (const c of await candidates()) {
    describe(c.name, () => {
      it('every weight type, 2 vectors, split in parts of 5 rows', async () => {
        for (const t of ALL_WEIGHT_TYPES) expect(await plain(t, c.variant), t).toBeLessThan(1e-5);
      });
      it('fused gate+up+SwiGLU and residual add', async () => {
        for (const t of ['Q4_K', 'Q8_0', 'F16'] as const) {
          const r = await fused(t, c.variant);
          expect(r.pair, t).toBeLessThan(1e-5);
          expect(r.acc, t).toBeLessThan(1e-5);
        }
      });
      it('gathered experts, plain and paired, an out-of-range id left untouched', async () => {
        for (const t of ['Q4_K', 'Q8_0'] as const) {
          const r = await gathered(t, c.variant);
          expect(r.plain, t).toBeLessThan(1e-5);
          expect(r.pair, t).toBeLessThan(1e-5);
        }
      });
    });
  }
});
