import { describe, expect, it } from 'vitest';
import { testGpu, maxAbsDiff, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, createStorage, readF32 } from '../../buffers.ts';
import { encodeAdd, encodeAccumulate } from './add.ts';
import { addRef, accumulateRef } from './add.ref.ts';

describe('add kernels', () => {
  for (const n of [1, 257, 4096, 10_007]) {
    it(`out = a + b for n = ${n}`, async () => {
      const { device } = await testGpu();
      const a = randomF32(n, n, 2);
      const b = randomF32(n, n + 1, 2);
      const out = createStorage(device, n * 4, 'out');
      const enc = device.createCommandEncoder();
      encodeAdd(device, enc, { a: uploadStorage(device, a, 'a'), b: uploadStorage(device, b, 'b'), out, n });
      device.queue.submit([enc.finish()]);
      expect(maxAbsDiff(await readF32(device, out, n), addRef(a, b))).toBe(0);
    });
  }

  for (const [rows, n, terms, weighted, scale] of [
    [3, 300, 1, false, 1], // residual h += x
    [1, 77, 1, false, 0.25], // y += s·x
    [5, 129, 4, true, 2.5], // MoE combine: 4 experts per token, router weights, routed scale
    [2, 64, 8, true, 1],
  ] as const) {
    it(`y += ${scale}·Σ w·x for [${rows}, ${n}], ${terms} terms${weighted ? ', weighted' : ''}`, async () => {
      const { device } = await testGpu();
      const y0 = randomF32(rows * n, 3 + n);
      const x = randomF32(rows * terms * n, 4 + n);
      const w = weighted ? randomF32(rows * terms, 5 + n) : undefined;
      const y = uploadStorage(device, y0, 'y');
      const enc = device.createCommandEncoder();
      encodeAccumulate(device, enc, { x: uploadStorage(device, x, 'x'), y, rows, n, terms, w: w && uploadStorage(device, w, 'w'), scale });
      device.queue.submit([enc.finish()]);
      expect(maxAbsDiff(await readF32(device, y, rows * n), accumulateRef(y0, x, rows, n, terms, w, scale))).toBeLessThan(1e-5);
    });
  }
});
