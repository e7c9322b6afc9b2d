import { describe, expect, it } from 'vitest';
import { testGpu } from '../../testing/test-gpu.ts';
import { measureCopy, measureMatvec } from './measure.ts';

describe('bandwidth probes (small sizes: the real ones belong to the benchmark)', () => {
  it('time a matvec and a copy and report positive rates', async () => {
    const { device } = await testGpu();
    device.pushErrorScope('validation');
    const mv = await measureMatvec(device, { type: 'Q8_0', k: 256, n: 64, reps: 2, trials: 1 });
    const copy = await measureCopy(device, { bytes: 2 ** 20, reps: 2, trials: 1 });
    expect(await device.popErrorScope()).toBeNull();
    expect(mv.bytes).toBe(64 * 8 * 34 + 256 * 4 + 64 * 4);
    expect(mv.gbPerS).toBeGreaterThan(0);
    expect(copy.gbPerS).toBeCloseTo(2 * copy.copyGbPerS, 6);
    // the method follows the device: GPU timestamps where it has them (the CPU clock if they misbehave)
    expect(device.features.has('timestamp-query') ? ['timestamp', 'cpu'] : ['cpu']).toContain(mv.method);
  });

  it('rotates over weight copies and grows the batch to minSeconds', async () => {
    const { device } = await testGpu();
    device.pushErrorScope('validation');
    const mv = await measureMatvec(device, { type: 'Q4_K', k: 256, n: 64, reps: 1, trials: 1, copies: 3, minSeconds: 0.02 });
    expect(await device.popErrorScope()).toBeNull();
    expect(mv.copies).toBe(3);
    expect(mv.reps % 3).toBe(0);
    // the batch was grown toward 20 ms (not asserted tightly: a loaded machine makes the first batch long enough)
    expect(mv.reps).toBeGreaterThanOrEqual(3);
    expect(mv.cpuSeconds * mv.reps).toBeGreaterThan(0.005);
  });
});
