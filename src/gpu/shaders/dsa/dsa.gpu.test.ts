import { describe, expect, it } from 'vitest';
import { testGpu, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, createStorage, readF32, readBack } from '../../buffers.ts';
import { createIndexerScore, createTopk } from './dsa.ts';
import { indexerScoreRef, topkRef, NOT_VISIBLE } from './dsa.ref.ts';

describe('indexer score kernel', () => {
  for (const [name, heads, dim, nq, nKv, qPos0, stride] of [
    ['decode, 4 heads × 64, 300 rows', 4, 64, 1, 300, 299, 320],
    ['prefill block of 5, scalar dims (6)', 3, 6, 5, 70, 65, 80],
    ['prefill from empty, 64 heads × 128', 64, 128, 3, 3, 0, 3],
  ] as const) {
    it(name, async () => {
      const { device } = await testGpu();
      const qI = randomF32(nq * heads * dim, 1 + dim);
      const w = randomF32(nq * heads, 2 + heads);
      const kI = randomF32(stride * dim, 3 + dim);
      const scores = uploadStorage(device, new Float32Array(nq * stride).fill(123), 'scores');
      const kernel = createIndexerScore(device, {
        heads,
        dim,
        nq,
        scoreStride: stride,
        wScale: 0.5,
        qI: uploadStorage(device, qI, 'qI'),
        w: uploadStorage(device, w, 'w'),
        kI: uploadStorage(device, kI, 'kI'),
        scores,
      });
      const enc = device.createCommandEncoder();
      kernel.encode(enc, { nKv, qPos0 });
      device.queue.submit([enc.finish()]);
      const got = await readF32(device, scores, nq * stride);
      const want = indexerScoreRef(qI, w, kI, { heads, dim, nq, nKv, qPos0, stride, wScale: 0.5 });
      for (let q = 0; q < nq; q++)
        for (let s = 0; s < stride; s++) {
          const [g, e] = [got[q * stride + s], want[q * stride + s]];
          if (s >= nKv)
            expect(g).toBe(123); // untouched beyond nKv
          else if (e === NOT_VISIBLE) expect(g).toBe(NOT_VISIBLE);
          else expect(Math.abs(g - e)).toBeLessThan(1e-4 * (1 + Math.abs(e)));
        }
      kernel.destroy();
    });
  }
});

async function runTopk(scores: Float32Array, stride: number, nq: number, nKv: number, qPos0: number, k: number) {
  const { device } = await testGpu();
  const idx = createStorage(device, nq * k * 4, 'idx');
  const kernel = createTopk(device, { nq, k, scores: uploadStorage(device, scores, 'scores'), scoreStride: stride, idx });
  const enc = device.createCommandEncoder();
  kernel.encode(enc, { nKv, qPos0 });
  device.queue.submit([enc.finish()]);
  const got = new Uint32Array(await readBack(device, idx, nq * k * 4));
  kernel.destroy();
  return got;
}

function expectTopk(scores: Float32Array, stride: number, nq: number, nKv: number, qPos0: number, k: number, got: Uint32Array) {
  for (let q = 0; q < nq; q++) {
    const n = Math.min(nKv, qPos0 + q + 1);
    const want = topkRef(scores.subarray(q * stride, q * stride + n), n, k);
    expect([...got.subarray(q * k, (q + 1) * k)]).toEqual(want);
  }
}

describe('top-k kernel', () => {
  const cases: { name: string; n: number; k: number; gen: (n: number) => Float32Array; nq?: number }[] = [
    { name: 'distinct random scores, n 1000, k 37', n: 1000, k: 37, gen: (n) => randomF32(n, 7, 5) },
    { name: 'many ties (5 levels), n 777, k 100', n: 777, k: 100, gen: (n) => randomF32(n, 8).map((x) => Math.round(x * 2)) },
    { name: 'all scores equal, n 500, k 64: the first 64', n: 500, k: 64, gen: (n) => new Float32Array(n).fill(0.25) },
    // ReLU-style rows (the indexer's exact zeros): which zeros are kept is llama.cpp's heap order
    { name: 'exact zeros at the boundary, n 40, k 9 (odd)', n: 40, k: 9, gen: (n) => randomF32(n, 15).map((x) => Math.max(0, x)) },
    { name: 'exact zeros at the boundary, n 64, k 8 (even)', n: 64, k: 8, gen: (n) => randomF32(n, 16).map((x) => (x > 0.85 ? x : 0)) },
    {
      name: 'exact zeros and -0 at the boundary, n 5000, k 2048',
      n: 5000,
      k: 2048,
      gen: (n) => randomF32(n, 17).map((x, i) => (x > 0.3 ? x : i % 2 ? -0 : 0)),
    },
    { name: 'k > visible (n 10, k 32): all, padded', n: 10, k: 32, gen: (n) => randomF32(n, 9) },
    { name: 'k = n exactly', n: 300, k: 300, gen: (n) => randomF32(n, 10) },
    {
      name: 'negative, -0/+0 and -inf scores, n 257',
      n: 257,
      k: 40,
      gen: (n) => randomF32(n, 11).map((x, i) => (i % 7 === 0 ? -0 : i % 11 === 0 ? 0 : i % 13 === 0 ? -Infinity : -Math.abs(x))),
    },
    {
      name: 'tie at the k-th boundary straddling thread segments',
      n: 2049,
      k: 1000,
      gen: (n) => randomF32(n, 12).map((x) => (x > 0.2 ? 1 : x > -0.5 ? 0.5 : x)),
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const scores = c.gen(c.n);
      const got = await runTopk(scores, c.n, 1, c.n, c.n - 1, c.k);
      expectTopk(scores, c.n, 1, c.n, c.n - 1, c.k, got);
    });
  }

  it('a causal block of 6 queries (prefill), each over its own visible prefix', async () => {
    const [nq, stride, nKv, qPos0, k] = [6, 64, 60, 54, 50];
    const scores = randomF32(nq * stride, 13).map((x) => Math.round(x * 4));
    const got = await runTopk(scores, stride, nq, nKv, qPos0, k);
    expectTopk(scores, stride, nq, nKv, qPos0, k, got);
  });

  it('a causal block of 40 queries with exact zeros, k 9: ties at the boundary in most rows', async () => {
    const [nq, stride, nKv, qPos0, k] = [40, 48, 40, 0, 9];
    const scores = randomF32(nq * stride, 18).map((x) => (x > 0.6 ? x : 0));
    let ties = 0;
    for (let q = 0; q < nq; q++) {
      const row = [...scores.subarray(q * stride, q * stride + q + 1)].sort((a, b) => b - a);
      if (row.length > k && row[k - 1] === row[k]) ties++;
    }
    expect(ties).toBeGreaterThan(20);
    const got = await runTopk(scores, stride, nq, nKv, qPos0, k);
    expectTopk(scores, stride, nq, nKv, qPos0, k, got);
  });

  it('n 32768, k 2048 with heavy ties (1000 levels)', async () => {
    const n = 32768;
    const scores = randomF32(n, 14).map((x) => Math.round(x * 500) / 7);
    const got = await runTopk(scores, n, 1, n, n - 1, 2048);
    expectTopk(scores, n, 1, n, n - 1, 2048, got);
  });
});
