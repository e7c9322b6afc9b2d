import { describe, expect, it } from 'vitest';
import { testGpu, maxAbsDiff, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, readF32 } from '../../buffers.ts';
import { createAccumulate } from './add.ts';
import { accumulateRef } from './add.ref.ts';

describe('accumulate kernel', () => {
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
      createAccumulate(device, { x: uploadStorage(device, x, 'x'), y, rows, n, terms, w: w && uploadStorage(device, w, 'w'), scale }).encode(enc);
      device.queue.submit([enc.finish()]);
      expect(maxAbsDiff(await readF32(device, y, rows * n), accumulateRef(y0, x, rows, n, terms, w, scale))).toBeLessThan(1e-5);
    });
  }
});
