import { describe, expect, it } from 'vitest';
import { testGpu, maxAbsDiff, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, createStorage, readF32 } from '../../buffers.ts';
import { createRmsnormInto, createRmsnorm } from './rmsnorm.ts';
import { rmsnormRef } from './rmsnorm.ref.ts';

describe('rmsnorm kernel', () => {
  // Row lengths below, at, and off multiples of the 256-thread workgroup.
  for (const [rows, n] of [
    [1, 7],
    [3, 256],
    [5, 1000],
    [2, 4097],
    [7, 7],
  ] as const) {
    it(`matches the CPU reference for [${rows}, ${n}]`, async () => {
      const { device } = await testGpu();
      const x = randomF32(rows * n, 1 + n, 3);
      const w = randomF32(n, 2 + n);
      const xb = uploadStorage(device, x, 'x');
      const wb = uploadStorage(device, w, 'w');
      const yb = createStorage(device, rows * n * 4, 'y');
      const enc = device.createCommandEncoder();
      createRmsnorm(device, { x: xb, weight: wb, y: yb, rows, n, eps: 1e-6 }).encode(enc);
      device.queue.submit([enc.finish()]);
      const got = await readF32(device, yb, rows * n);
      const want = rmsnormRef(x, w, rows, n, 1e-6);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
    });
  }

  it('prepared, strided in and placed out: the first n of each wider row, into cache rows from the step row', async () => {
    const { device } = await testGpu();
    const [rows, n, stride, capacity] = [3, 96, 96 + 32, 10];
    const x = randomF32(rows * stride, 5, 3);
    const w = randomF32(n, 6);
    const y = createStorage(device, capacity * n * 4, 'cache');
    const k = createRmsnormInto(device, { x: uploadStorage(device, x, 'x'), weight: uploadStorage(device, w, 'w'), y, rows, n, eps: 1e-6, xStride: stride });
    for (const row of [4, 0]) {
      const enc = device.createCommandEncoder();
      k.encode(enc, row);
      device.queue.submit([enc.finish()]);
    }
    const got = await readF32(device, y, capacity * n);
    const want = rmsnormRef(
      Float32Array.from({ length: rows * n }, (_, i) => x[Math.floor(i / n) * stride + (i % n)]),
      w,
      rows,
      n,
      1e-6,
    );
    for (const row of [0, 4]) expect(maxAbsDiff(got.subarray(row * n, (row + rows) * n), want)).toBeLessThan(1e-5);
    expect([...got.subarray(7 * n)].every((v) => v === 0)).toBe(true); // rows past both writes untouched
    k.destroy();
  });
});
