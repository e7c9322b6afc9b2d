import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testGpu } from '../testing/test-gpu.ts';
import { dawnPolling, dawnPollingSleeps, setDawnPolling } from './dawn-polling.ts';

const MiB = 1 << 20;

// One GPU wait: 32 MiB copied `copies` times, then read back (checked); returns its milliseconds.
async function timedWait(device: GPUDevice, copies: number): Promise<number> {
  const src = device.createBuffer({ size: 32 * MiB, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const dst = device.createBuffer({ size: 32 * MiB, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const read = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(src, 32 * MiB - 16, new Uint32Array([1, 2, 3, 4]));
  const enc = device.createCommandEncoder();
  for (let i = 0; i < copies; i++) enc.copyBufferToBuffer(src, 0, dst, 0, 32 * MiB);
  enc.copyBufferToBuffer(dst, 32 * MiB - 16, read, 0, 16);
  const t0 = performance.now();
  device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const ms = performance.now() - t0;
  expect([...new Uint32Array(read.getMappedRange())]).toEqual([1, 2, 3, 4]);
  read.unmap();
  [src, dst, read].forEach((b) => b.destroy());
  return ms;
}

describe("Node's GPU wait", () => {
  let engineMode = dawnPolling();
  beforeAll(async () => {
    await testGpu(); // node-gpu.ts sets the mode when it finds the adapter
    engineMode = dawnPolling();
  });
  afterEach(() => setDawnPolling(engineMode));

  it('software adapters wait politely, hardware ones busily (node-gpu.ts)', async () => {
    const { info } = await testGpu();
    expect(engineMode).toBe(process.env.SPARSESCOPE_DAWN_POLLING ?? (info.software ? 'polite' : 'busy'));
  });

  it('sleeps between Dawn ticks in a long wait when polite, and not when busy; the results are the same', async () => {
    const { device } = await testGpu();
    setDawnPolling('busy');
    let before = dawnPollingSleeps();
    const busyMs = await timedWait(device, 4);
    expect(dawnPollingSleeps()).toBe(before);
    // enough copies for one wait of ~30 ms on this adapter, well past the 3 ms that polite polling spins
    const copies = Math.min(4096, Math.max(4, Math.ceil((4 * 30) / Math.max(busyMs, 0.01))));
    setDawnPolling('polite');
    before = dawnPollingSleeps();
    const politeMs = await timedWait(device, copies);
    expect(politeMs).toBeGreaterThan(3);
    expect(dawnPollingSleeps()).toBeGreaterThan(before);
  });
});
