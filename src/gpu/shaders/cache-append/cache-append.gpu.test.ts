// The fused cache appends against their unfused CPU references (cache-append.ref.ts): the rows at the
// step's position written, every other cache row left as it was, q rotated as the separate RoPE did;
// MLA's and the indexer's appends in one dispatch against the same references.
import { describe, expect, it } from 'vitest';
import { testGpu, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, readF32 } from '../../buffers.ts';
import { submitChecked } from '../common/quant-testing.ts';
import { relMaxErr } from '../matmul/matmul.ref.ts';
import { yarnCorrDims, type RopeParams } from '../rope/rope.ts';
import { createIndexerAppend, createMlaAppend, createMlaIndexerAppend } from './cache-append.ts';
import { indexerAppendRef, mlaAppendRef } from './cache-append.ref.ts';

const SENTINEL = -777;

const yarn = (nDims: number, neox: boolean): RopeParams => ({
  nDims,
  freqBase: 10000,
  freqScale: 0.25,
  extFactor: 1,
  attnFactor: 0.9,
  corrDims: yarnCorrDims(nDims, 4096, 10000, 32, 1),
  neox,
});

/** A cache of `cap` rows of `width` filled with SENTINEL, the rows [pos, pos + rows) replaced by `rows`. */
function expectCache(got: Float32Array, want: Float32Array, pos: number, width: number) {
  const before = got.subarray(0, pos * width);
  const after = got.subarray((pos + want.length / width) * width);
  expect(before.every((v) => v === SENTINEL)).toBe(true);
  expect(after.every((v) => v === SENTINEL)).toBe(true);
  expect(relMaxErr(got.subarray(pos * width, pos * width + want.length), want)).toBeLessThan(1e-5);
}

describe('fused cache appends', () => {
  for (const [rows, pos, inPlace] of [
    [1, 37, false],
    [3, 5, true],
    [2, 0, false],
  ] as const) {
    it(`MLA: ckv norm, kpe and q_pe rope, ${rows} token(s) at ${pos}, q_pe ${inPlace ? 'in place (legacy)' : 'out of place (absorbed)'}`, async () => {
      const { device } = await testGpu();
      const [H, L, N, R, cap] = [3, 80, 16, 32, 48];
      const K = N + R;
      const rope = yarn(R, false);
      const kvA = randomF32(rows * (L + R), 11).map((v) => 5 * v);
      const normW = randomF32(L, 12).map((v) => 1 + v);
      const q = randomF32(rows * H * K, 13);
      const ckv = uploadStorage(device, new Float32Array(cap * L).fill(SENTINEL), 'ckv');
      const kpe = uploadStorage(device, new Float32Array(cap * R).fill(SENTINEL), 'kpe');
      const qb = uploadStorage(device, q, 'q');
      const qPe = inPlace ? undefined : uploadStorage(device, new Float32Array(rows * H * R), 'q_pe');
      const k = createMlaAppend(device, {
        rows,
        heads: H,
        kvLora: L,
        rope,
        eps: 1e-6,
        kvA: uploadStorage(device, kvA, 'kv_a'),
        normWeight: uploadStorage(device, normW, 'w'),
        ckv,
        kpe,
        atStep: true,
        q: qb,
        qHead: K,
        qOffset: N,
        qPe,
      });
      await submitChecked(device, (enc) => k.encode(enc, pos));
      const want = mlaAppendRef({ kvA, normW, q, rows, heads: H, kvLora: L, qHead: K, qOffset: N, rope, eps: 1e-6, pos });
      expectCache(await readF32(device, ckv, cap * L), want.ckv, pos, L);
      expectCache(await readF32(device, kpe, cap * R), want.kpe, pos, R);
      if (qPe) {
        expect(relMaxErr(await readF32(device, qPe, rows * H * R), want.qPe)).toBeLessThan(1e-5);
        expect(Array.from(await readF32(device, qb, q.length))).toEqual(Array.from(q)); // q only read
      } else {
        expect(relMaxErr(await readF32(device, qb, q.length), want.q)).toBeLessThan(1e-5);
      }
      k.destroy();
    });
  }

  for (const [rows, pos, D, R] of [
    [1, 21, 64, 32],
    [4, 3, 128, 64],
    [2, 0, 96, 96],
  ] as const) {
    it(`indexer: key LayerNorm + NeoX rope + append and q rope, ${rows} token(s) at ${pos}, D ${D}, rope ${R}`, async () => {
      const { device } = await testGpu();
      const [H, cap] = [4, 40];
      const rope = yarn(R, true);
      const kRaw = randomF32(rows * D, 21).map((v) => 3 * v + 1);
      const lnW = randomF32(D, 22).map((v) => 1 + v);
      const lnB = randomF32(D, 23);
      const q = randomF32(rows * H * D, 24);
      const kCache = uploadStorage(device, new Float32Array(cap * D).fill(SENTINEL), 'k_cache');
      const qb = uploadStorage(device, q, 'q');
      const k = createIndexerAppend(device, {
        rows,
        heads: H,
        dim: D,
        rope,
        eps: 1e-6,
        kRaw: uploadStorage(device, kRaw, 'k_raw'),
        lnWeight: uploadStorage(device, lnW, 'ln_w'),
        lnBias: uploadStorage(device, lnB, 'ln_b'),
        kCache,
        q: qb,
      });
      await submitChecked(device, (enc) => k.encode(enc, pos));
      const want = indexerAppendRef({ kRaw, lnW, lnB, q, rows, heads: H, dim: D, rope, eps: 1e-6, pos });
      expectCache(await readF32(device, kCache, cap * D), want.k, pos, D);
      expect(relMaxErr(await readF32(device, qb, q.length), want.q)).toBeLessThan(1e-5);
      k.destroy();
    });
  }

  it('MLA and indexer appends in one dispatch = each alone: 2 tokens at 9, q_pe out of place, q and q_I in one buffer', async () => {
    const { device } = await testGpu();
    const [rows, pos, H, L, N, R, cap, HI, D, RI] = [2, 9, 3, 80, 16, 32, 24, 4, 64, 32];
    const K = N + R;
    const [rope, ropeI] = [yarn(R, false), yarn(RI, true)];
    const kvA = randomF32(rows * (L + R), 31).map((v) => 5 * v);
    const normW = randomF32(L, 32).map((v) => 1 + v);
    const q = randomF32(rows * H * K, 33);
    const kRaw = randomF32(rows * D, 34).map((v) => 3 * v + 1);
    const lnW = randomF32(D, 35).map((v) => 1 + v);
    const lnB = randomF32(D, 36);
    const qI = randomF32(rows * HI * D, 37);
    const filled = (n: number, label: string) => uploadStorage(device, new Float32Array(n).fill(SENTINEL), label);
    const [ckv, kpe, kCache] = [filled(cap * L, 'ckv'), filled(cap * R, 'kpe'), filled(cap * D, 'k_cache')];
    // q and q_I as the graph has them: blocks of one buffer (cq_proj), bound as ranges that do not overlap
    const qIAt = Math.ceil((q.length * 4) / device.limits.minStorageBufferOffsetAlignment) * device.limits.minStorageBufferOffsetAlignment;
    const cqInit = new Float32Array(qIAt / 4 + qI.length);
    cqInit.set(q);
    cqInit.set(qI, qIAt / 4);
    const cq = uploadStorage(device, cqInit, 'cq_proj');
    const qb = { buffer: cq, offset: 0, size: q.length * 4 };
    const qIb = { buffer: cq, offset: qIAt, size: qI.length * 4 };
    const qPe = uploadStorage(device, new Float32Array(rows * H * R), 'q_pe');
    const mlaArgs = {
      rows,
      heads: H,
      kvLora: L,
      rope,
      eps: 1e-6,
      kvA: uploadStorage(device, kvA, 'kv_a'),
      normWeight: uploadStorage(device, normW, 'w'),
      ckv,
      kpe,
      atStep: true,
      q: qb,
      qHead: K,
      qOffset: N,
      qPe,
    };
    const ixArgs = {
      rows,
      heads: HI,
      dim: D,
      rope: ropeI,
      eps: 1e-6,
      kRaw: uploadStorage(device, kRaw, 'k_raw'),
      lnWeight: uploadStorage(device, lnW, 'ln_w'),
      lnBias: uploadStorage(device, lnB, 'ln_b'),
      kCache,
      q: qIb,
    };
    const k = createMlaIndexerAppend(device, mlaArgs, ixArgs);
    await submitChecked(device, (enc) => k.encode(enc, pos));
    const want = mlaAppendRef({ kvA, normW, q, rows, heads: H, kvLora: L, qHead: K, qOffset: N, rope, eps: 1e-6, pos });
    const wantI = indexerAppendRef({ kRaw, lnW, lnB, q: qI, rows, heads: HI, dim: D, rope: ropeI, eps: 1e-6, pos });
    expectCache(await readF32(device, ckv, cap * L), want.ckv, pos, L);
    expectCache(await readF32(device, kpe, cap * R), want.kpe, pos, R);
    expect(relMaxErr(await readF32(device, qPe, rows * H * R), want.qPe)).toBeLessThan(1e-5);
    const cqOut = await readF32(device, cq, qIAt / 4 + qI.length);
    expect(Array.from(cqOut.subarray(0, q.length))).toEqual(Array.from(q));
    expectCache(await readF32(device, kCache, cap * D), wantI.k, pos, D);
    expect(relMaxErr(cqOut.subarray(qIAt / 4), wantI.q)).toBeLessThan(1e-5);
    k.destroy();
  });

  it('pairs of the wrong kind or a rotation wider than the head are refused with typed errors', async () => {
    const { device } = await testGpu();
    const b = uploadStorage(device, new Float32Array(4), 'b');
    const mla = { rows: 1, heads: 1, kvLora: 4, eps: 1e-6, kvA: b, normWeight: b, ckv: b, kpe: b, atStep: true, q: b, qHead: 8, qOffset: 4 };
    expect(() => createMlaAppend(device, { ...mla, rope: yarn(4, true) })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => createMlaAppend(device, { ...mla, rope: yarn(6, false) })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    const ix = { rows: 1, heads: 1, dim: 8, eps: 1e-6, kRaw: b, lnWeight: b, lnBias: b, kCache: b, q: b };
    expect(() => createIndexerAppend(device, { ...ix, rope: yarn(8, false) })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => createIndexerAppend(device, { ...ix, rope: yarn(10, true) })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
  });
});
