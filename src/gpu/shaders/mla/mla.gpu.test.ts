import { describe, expect, it } from 'vitest';
import { testGpu, maxAbsDiff, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, createStorage, readF32 } from '../../buffers.ts';
import { createGqaAttention, createMlaAbsorbed, createMlaLegacy, NO_POSITION } from './mla.ts';
import { mlaAbsorbedRef, mlaLegacyRef } from './mla.ref.ts';

interface Case {
  name: string;
  heads: number;
  kvLora: number;
  rope: number;
  nq: number;
  nKv: number;
  qPos0: number;
  capacity: number;
  /** chosen positions per query (ascending, NO_POSITION-padded to k) */
  chosen?: (q: number) => number[];
  k?: number;
  weights?: boolean;
}

function randomSubset(n: number, k: number, seed: number): number[] {
  const r = randomF32(n, seed);
  return [...Array(n).keys()]
    .sort((a, b) => r[a] - r[b])
    .slice(0, Math.min(k, n))
    .sort((a, b) => a - b);
}

function padded(list: number[], k: number): number[] {
  return [...list, ...Array(Math.max(0, k - list.length)).fill(NO_POSITION)];
}

const absorbed: Case[] = [
  { name: 'decode, one chunk, 4 heads', heads: 4, kvLora: 32, rope: 8, nq: 1, nKv: 37, qPos0: 36, capacity: 40 },
  { name: 'decode, 3 chunks of 128, 16 heads, weights', heads: 16, kvLora: 64, rope: 16, nq: 1, nKv: 301, qPos0: 300, capacity: 320, weights: true },
  { name: 'decode, scalar path (dims not multiples of 4), 3 heads', heads: 3, kvLora: 30, rope: 6, nq: 1, nKv: 129, qPos0: 128, capacity: 129, weights: true },
  { name: 'prefill chunk: 7 causal queries after 20 cached rows', heads: 8, kvLora: 32, rope: 8, nq: 7, nKv: 27, qPos0: 20, capacity: 64, weights: true },
  { name: 'prefill from empty cache, 300 queries (several chunks per query)', heads: 16, kvLora: 16, rope: 4, nq: 300, nKv: 300, qPos0: 0, capacity: 300 },
  {
    name: 'sparse decode: 50 of 301 rows, padded list',
    heads: 16,
    kvLora: 64,
    rope: 16,
    nq: 1,
    nKv: 301,
    qPos0: 300,
    capacity: 301,
    k: 64,
    weights: true,
    chosen: () => padded(randomSubset(301, 50, 9), 64),
  },
  {
    name: 'sparse prefill: per-query lists, causal',
    heads: 4,
    kvLora: 32,
    rope: 8,
    nq: 5,
    nKv: 45,
    qPos0: 40,
    capacity: 48,
    k: 16,
    weights: true,
    chosen: (q) => padded(randomSubset(41 + q, 16, 3 + q), 16),
  },
  {
    // 128 chunks × 128 heads × 512 floats = 32 MiB of partials per query: 6 queries pass lavapipe's 128 MiB
    // binding limit, so they run in groups (found by the DeepSeek-V3.2 twin: garbage before the groups)
    name: 'DeepSeek-V3.2 width: 128 heads, top-k 2048, 6 sparse prefill queries in binding-sized groups',
    heads: 128,
    kvLora: 512,
    rope: 64,
    nq: 6,
    nKv: 2100,
    qPos0: 2094,
    capacity: 2100,
    k: 2048,
    chosen: (q) => randomSubset(2095 + q, 2048, 11 + q),
  },
  {
    name: 'sparse list of 300 positions over 2 chunks',
    heads: 16,
    kvLora: 32,
    rope: 8,
    nq: 1,
    nKv: 700,
    qPos0: 699,
    capacity: 700,
    k: 300,
    chosen: () => randomSubset(700, 300, 5),
  },
];

async function runAbsorbed(c: Case, sparseAll = false) {
  const { device } = await testGpu();
  const { heads: H, kvLora: L, rope: R, nq } = c;
  const qLat = randomF32(nq * H * L, 1 + H * L);
  const qPe = randomF32(nq * H * R, 2 + R);
  const ckv = randomF32(c.capacity * L, 3 + L);
  const kpe = randomF32(c.capacity * R, 4 + R);
  const kqScale = 3 / Math.sqrt(L + R); // sharper than 1/sqrt: probabilities far from uniform
  let chosen = c.chosen;
  let k = c.k;
  if (sparseAll) {
    k = c.nKv + 5; // k >= tokens: every visible row, in order, padded
    chosen = () => padded([...Array(c.nKv).keys()], c.nKv + 5);
  }
  const out = createStorage(device, nq * H * L * 4, 'out');
  const weights = c.weights ? createStorage(device, nq * c.capacity * 4, 'weights') : undefined;
  const idxData = chosen && new Uint32Array(Array.from({ length: nq }, (_, q) => chosen!(q)).flat());
  const kernel = createMlaAbsorbed(device, {
    heads: H,
    kvLora: L,
    rope: R,
    nq,
    capacity: c.capacity,
    kqScale,
    qLat: uploadStorage(device, qLat, 'qLat'),
    qPe: uploadStorage(device, qPe, 'qPe'),
    ckv: uploadStorage(device, ckv, 'ckv'),
    kpe: uploadStorage(device, kpe, 'kpe'),
    out,
    sparse: idxData && { idx: uploadStorage(device, idxData, 'idx'), k: k! },
    weights,
  });
  const enc = device.createCommandEncoder();
  kernel.encode(enc, { nKv: c.nKv, qPos0: c.qPos0 });
  device.queue.submit([enc.finish()]);
  const got = await readF32(device, out, nq * H * L);
  const gotW = weights && (await readF32(device, weights, nq * c.capacity));
  kernel.destroy();
  const want = mlaAbsorbedRef({ qLat, qPe, ckv, kpe }, { heads: H, kvLora: L, rope: R, nq, nKv: c.nKv, qPos0: c.qPos0, kqScale, capacity: c.capacity, chosen });
  return { got, gotW, want };
}

describe('MLA absorbed attention kernel', () => {
  for (const c of absorbed) {
    it(c.name, async () => {
      const { got, gotW, want } = await runAbsorbed(c);
      expect(maxAbsDiff(got, want.out)).toBeLessThan(2e-5);
      if (gotW) {
        expect(maxAbsDiff(gotW, want.weights)).toBeLessThan(2e-5);
        // Σ_s Σ_h p = H per query.
        for (let q = 0; q < c.nq; q++) {
          const sum = gotW.subarray(q * c.capacity, (q + 1) * c.capacity).reduce((x, y) => x + y, 0);
          expect(sum).toBeCloseTo(c.heads, 4);
        }
      }
    });
  }

  for (const c of [absorbed[1], absorbed[3]]) {
    it(`sparse with k >= tokens equals dense: ${c.name}`, async () => {
      const dense = await runAbsorbed(c);
      const sparse = await runAbsorbed(c, true);
      expect(maxAbsDiff(sparse.got, dense.got)).toBeLessThan(1e-6);
      if (dense.gotW) expect(maxAbsDiff(sparse.gotW!, dense.gotW)).toBeLessThan(1e-6);
    });
  }
});

describe('MHA / GQA attention kernel (legacy MLA, the dense families)', () => {
  // reference: each kv head repeated for its group of query heads, then plain MHA (mlaLegacyRef)
  for (const [name, H, HK, dk, dv, nq, nKv, qPos0, k] of [
    ['legacy MLA decode, 3 heads, dk 24, dv 16', 3, 3, 24, 16, 1, 133, 132, 0],
    ['legacy MLA prefill, 4 heads, scalar dims (dk 10, dv 6)', 4, 4, 10, 6, 6, 6, 0, 0],
    ['legacy MLA sparse decode, 2 heads', 2, 2, 24, 16, 1, 90, 89, 20],
    ['decode, 8 heads over 2 kv heads, D 64', 8, 2, 64, 64, 1, 70, 69, 0],
    ['prefill, 6 heads over 1 kv head (MQA), D 32', 6, 1, 32, 32, 5, 12, 7, 0],
    ['decode, 4 heads over 4 kv heads (MHA), scalar D 6', 4, 4, 6, 6, 1, 9, 8, 0],
    ['sparse decode, 12 heads over 4 kv heads (groups of 3), D 16', 12, 4, 16, 16, 1, 90, 89, 20],
  ] as const) {
    it(name, async () => {
      const { device } = await testGpu();
      const capacity = nKv;
      const group = H / HK;
      const q = randomF32(nq * H * dk, 21);
      const kk = randomF32(capacity * HK * dk, 22);
      const v = randomF32(capacity * HK * dv, 23);
      const perHead = (x: Float32Array, d: number) =>
        Float32Array.from({ length: capacity * H * d }, (_, i) => {
          const s = Math.floor(i / (H * d));
          const h = Math.floor(i / d) % H;
          return x[(s * HK + Math.floor(h / group)) * d + (i % d)];
        });
      const chosen = k ? () => padded(randomSubset(nKv, k - 3, 27), k) : undefined;
      const out = createStorage(device, nq * H * dv * 4, 'out');
      const weights = createStorage(device, nq * capacity * 4, 'weights');
      const args = {
        heads: H,
        dk,
        dv,
        nq,
        capacity,
        kqScale: 1 / Math.sqrt(dk),
        q: uploadStorage(device, q, 'q'),
        k: uploadStorage(device, kk, 'k'),
        v: uploadStorage(device, v, 'v'),
        out,
        weights,
        sparse: chosen && { idx: uploadStorage(device, new Uint32Array(chosen()), 'idx'), k },
      };
      const kernel = HK === H && dk !== dv ? createMlaLegacy(device, args) : createGqaAttention(device, { ...args, headsKv: HK });
      const enc = device.createCommandEncoder();
      kernel.encode(enc, { nKv, qPos0 });
      device.queue.submit([enc.finish()]);
      const want = mlaLegacyRef(
        { q, k: perHead(kk, dk), v: perHead(v, dv) },
        { heads: H, dk, dv, nq, nKv, qPos0, kqScale: 1 / Math.sqrt(dk), capacity, chosen },
      );
      expect(maxAbsDiff(await readF32(device, out, nq * H * dv), want.out)).toBeLessThan(2e-5);
      expect(maxAbsDiff(await readF32(device, weights, nq * capacity), want.weights)).toBeLessThan(2e-5);
      kernel.destroy();
    });
  }
});
