import { describe, expect, it } from 'vitest';
import { testGpu, maxAbsDiff, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, createStorage, readF32 } from '../../buffers.ts';
import { encodeRmsnorm } from './rmsnorm.ts';
import { rmsnormRef } from './rmsnorm.ref.ts';

describe('rmsnorm kernel', () => {
  // Row lengths below, at, and off multiples of the 256-thread workgroup.
  for (const [rows, n] of [[1, 7], [3, 256], [5, 1000], [2, 4097], [7, 7]] as const) {
    it(`matches the CPU reference for [${rows}, ${n}]`, async () => {
      const { device } = await testGpu();
      const x = randomF32(rows * n, 1 + n, 3);
      const w = randomF32(n, 2 + n);
      const xb = uploadStorage(device, x, 'x');
      const wb = uploadStorage(device, w, 'w');
      const yb = createStorage(device, rows * n * 4, 'y');
      const enc = device.createCommandEncoder();
      encodeRmsnorm(device, enc, { x: xb, weight: wb, y: yb, rows, n, eps: 1e-6 });
      device.queue.submit([enc.finish()]);
      const got = await readF32(device, yb, rows * n);
      const want = rmsnormRef(x, w, rows, n, 1e-6);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
    });
  }
});
