import { describe, expect, it } from 'vitest';
import { testGpu, maxAbsDiff, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, createStorage, readF32 } from '../../buffers.ts';
import { createLayernorm } from './layernorm.ts';
import { layernormRef } from './layernorm.ref.ts';

describe('layernorm kernel', () => {
  // Row lengths below, at and off multiples of the 64-thread workgroup; an offset mean tests the centred variance.
  for (const [rows, n] of [
    [1, 7],
    [3, 64],
    [5, 128],
    [2, 1000],
    [9, 65],
  ] as const) {
    it(`matches the CPU reference for [${rows}, ${n}]`, async () => {
      const { device } = await testGpu();
      const x = randomF32(rows * n, 10 + n, 3).map((v) => v + 5);
      const w = randomF32(n, 20 + n);
      const b = randomF32(n, 30 + n);
      const y = createStorage(device, rows * n * 4, 'y');
      const enc = device.createCommandEncoder();
      createLayernorm(device, {
        x: uploadStorage(device, x, 'x'),
        weight: uploadStorage(device, w, 'w'),
        bias: uploadStorage(device, b, 'b'),
        y,
        rows,
        n,
      }).encode(enc);
      device.queue.submit([enc.finish()]);
      expect(maxAbsDiff(await readF32(device, y, rows * n), layernormRef(x, w, b, rows, n, 1e-6))).toBeLessThan(2e-5);
    });
  }
});
