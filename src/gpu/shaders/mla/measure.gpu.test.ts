import { describe, expect, it } from 'vitest';
import { testGpu } from '../../testing/test-gpu.ts';
import { measureSparseVsDense } from './measure.ts';

describe('sparse vs dense measurement helper', () => {
  // A small smoke run; the benchmark figure is context 4096 (SPARSESCOPE_MEASURE=1 runs it here and prints it).
  it('times both paths in batches over rotated layers and reports their ratio', async () => {
    const { device } = await testGpu();
    const full = process.env.SPARSESCOPE_MEASURE === '1';
    device.pushErrorScope('validation');
    const r = await measureSparseVsDense(device, full ? {} : { context: 512, kvLora: 64, rope: 16, topK: 64, iters: 2, trials: 1, layers: 2 });
    expect(await device.popErrorScope()).toBeNull();
    if (full) console.log(JSON.stringify(r, null, 1));
    expect(r.denseMs).toBeGreaterThan(0);
    expect(r.sparseMs).toBeGreaterThan(0);
    expect(Number.isFinite(r.ratio)).toBe(true);
    expect(['timestamp', 'cpu']).toContain(r.method);
    if (!full) expect(r.reps).toBe(2); // a multiple of the 2 layers, not grown (minSeconds 0)
  });
});
