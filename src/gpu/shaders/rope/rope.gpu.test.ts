import { describe, expect, it } from 'vitest';
import { testGpu, maxAbsDiff, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, readF32, createStorage } from '../../buffers.ts';
import { createRope, yarnCorrDims, type RopeParams } from './rope.ts';
import { ropeRef } from './rope.ref.ts';

const base: RopeParams = { nDims: 64, freqBase: 10000, freqScale: 1, extFactor: 0, attnFactor: 1, corrDims: [0, 0], neox: false };
const yarn: RopeParams = { ...base, freqScale: 1 / 40, extFactor: 1, attnFactor: 1 / (1 + 0.1 * Math.log(40)), corrDims: yarnCorrDims(64, 4096, 10000, 32, 1) };

const cases: { name: string; rows: number; heads: number; headDim: number; offset: number; p: RopeParams; pos0: number; positions?: number[]; tol?: number }[] =
  [
    { name: 'MLA q_pe: [nope | rope] heads, normal pairs', rows: 3, heads: 5, headDim: 48 + 64, offset: 48, p: base, pos0: 0 },
    { name: 'MLA kpe after kv_lora, one head, YaRN', rows: 4, heads: 1, headDim: 40 + 64, offset: 40, p: yarn, pos0: 4090 },
    {
      name: 'indexer q: [rope | nope], NeoX, positions buffer',
      rows: 3,
      heads: 4,
      headDim: 128,
      offset: 0,
      p: { ...base, neox: true },
      pos0: 7,
      positions: [0, 5, 31_000],
    },
    { name: 'indexer k, NeoX + YaRN, far positions', rows: 5, heads: 1, headDim: 64, offset: 0, p: { ...yarn, neox: true }, pos0: 32_000, tol: 1e-4 },
    { name: 'small odd shape (rope 6)', rows: 7, heads: 3, headDim: 10, offset: 4, p: { ...base, nDims: 6, freqBase: 500 }, pos0: 100 },
  ];

describe('rope kernel', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const { device } = await testGpu();
      const n = c.rows * c.heads * c.headDim;
      const x = randomF32(n, n + c.offset);
      const xb = uploadStorage(device, x, 'x');
      const shape = { rows: c.rows, heads: c.heads, rowStride: c.heads * c.headDim, headStride: c.headDim, offset: c.offset };
      const enc = device.createCommandEncoder();
      createRope(device, {
        x: xb,
        ...shape,
        params: c.p,
        positions: c.positions && uploadStorage(device, new Uint32Array(c.positions), 'pos'),
      }).encode(enc, c.pos0);
      device.queue.submit([enc.finish()]);
      const got = await readF32(device, xb, n);
      const want = ropeRef(x.slice(), shape, c.p, c.pos0, c.positions);
      // Rotated values match to f32 accuracy. Far out (theta ~ 1e2-1e4 in the YaRN mix) one f32 ulp of theta
      // is 1e-5-1e-3 rad and whether the mix is fused (FMA) is the compiler's choice, in ggml too: looser there.
      expect(maxAbsDiff(got, want)).toBeLessThan(c.tol ?? 2e-5);
      // The rest of each head (the nope part) is untouched, bit for bit.
      for (let i = 0; i < n; i++) {
        const d = i % c.headDim;
        if (d < c.offset || d >= c.offset + c.p.nDims) expect(got[i]).toBe(x[i]);
      }
    });
  }

  it('prepared, out of place: k_pe rotated from the kv_a rows [kv_lora | rope] into cache rows at the step position', async () => {
    const { device } = await testGpu();
    const [rows, lora, rope, capacity, pos] = [2, 40, 64, 12, 6];
    const x = randomF32(rows * (lora + rope), 9);
    const xb = uploadStorage(device, x, 'kv_a');
    const cache = createStorage(device, capacity * rope * 4, 'kpe cache');
    const shape = { rows, heads: 1, rowStride: lora + rope, headStride: lora + rope, offset: lora };
    const k = createRope(device, { x: xb, ...shape, params: yarn, out: { y: cache, rowStride: rope, headStride: rope, offset: 0, rowAtStep: true } });
    const enc = device.createCommandEncoder();
    k.encode(enc, pos);
    device.queue.submit([enc.finish()]);
    const rotated = ropeRef(x.slice(), shape, yarn, pos);
    const want = Float32Array.from({ length: rows * rope }, (_, i) => rotated[Math.floor(i / rope) * (lora + rope) + lora + (i % rope)]);
    const got = await readF32(device, cache, capacity * rope);
    expect(maxAbsDiff(got.subarray(pos * rope, (pos + rows) * rope), want)).toBeLessThan(2e-5);
    expect([...got.subarray(0, pos * rope), ...got.subarray((pos + rows) * rope)].every((v) => v === 0)).toBe(true);
    expect(await readF32(device, xb, x.length)).toEqual(x); // the source is only read
    k.destroy();
  });
});
