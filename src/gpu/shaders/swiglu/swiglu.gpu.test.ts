import { describe, expect, it } from 'vitest';
import { testGpu, maxAbsDiff, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, createStorage, readF32 } from '../../buffers.ts';
import { createSwiglu } from './swiglu.ts';
import { swigluRef } from './swiglu.ref.ts';

describe('swiglu kernel', () => {
  for (const n of [1, 255, 256, 1000, 70_001]) {
    it(`matches the CPU reference for n = ${n}`, async () => {
      const { device } = await testGpu();
      const g = randomF32(n, 1 + n, 12); // wide range: both tails of the sigmoid
      const u = randomF32(n, 2 + n, 2);
      if (n > 4) {
        g[0] = -120; // exp(-g) overflows
        g[1] = 120;
      }
      const y = createStorage(device, n * 4, 'y');
      const enc = device.createCommandEncoder();
      createSwiglu(device, { gate: uploadStorage(device, g, 'g'), up: uploadStorage(device, u, 'u'), y, n }).encode(enc);
      device.queue.submit([enc.finish()]);
      expect(maxAbsDiff(await readF32(device, y, n), swigluRef(g, u))).toBeLessThan(2e-5);
    });
  }
});
