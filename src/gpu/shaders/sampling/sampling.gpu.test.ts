import { describe, expect, it } from 'vitest';
import { testGpu, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage } from '../../buffers.ts';
import { createGpuSampler } from './sampling.ts';
import { sampleRef, samplerSettings, type SamplerSettings } from './sampling.ref.ts';

/** Logits with structure: noise of width `scale` plus a few spikes (so top-p has a real cut) and a tie at the top. */
function logitsFor(V: number, seed: number, scale: number): Float32Array {
  const l = randomF32(V, seed, scale);
  for (let j = 0; j < Math.min(12, V); j++) l[(j * 7919 + seed) % V] += 6 - j * 0.4;
  if (V > 3) l[V - 1] = l[V - 2] = Math.max(...l.subarray(0, 64)) + 0.25; // tie: the lower id must win greedy
  return l;
}

const settings: [string, Partial<SamplerSettings>][] = [
  ['greedy', { temperature: 0 }],
  ['greedy + penalty 1.5', { temperature: 0, repetitionPenalty: 1.5 }],
  ['defaults (T 0.8, top-k 40, top-p 0.95, min-p 0.05)', {}],
  ['top-k off, top-p 0.9 (whole-vocab normaliser)', { temperature: 1, topK: 0, topP: 0.9, minP: 0 }],
  ['top-k 300 > candidates, top-p 0.8', { temperature: 1.2, topK: 300, topP: 0.8, minP: 0 }],
  ['min-p 0.1 only, T 1.5', { temperature: 1.5, topK: 0, topP: 1, minP: 0.1 }],
  ['top-k 5, penalty 1.3 over 64', { temperature: 0.7, topK: 5, topP: 1, minP: 0, repetitionPenalty: 1.3 }],
];

describe('GPU sampler = CPU reference (same token id)', () => {
  // Vocab sizes off multiples of the 256-thread workgroups, the 1024-pair chunks and the 4096 spans;
  // 129280 is DeepSeek-V3's vocabulary, 160001 beyond it.
  for (const V of [1, 7, 1000, 4097, 33001, 129280, 160001]) {
    it(`V = ${V}`, async () => {
      const { device } = await testGpu();
      const big = V > 50_000;
      const logits = logitsFor(V, V % 1000, 3);
      const buf = uploadStorage(device, Float32Array.from([...new Float32Array(5), ...logits]), 'logits'); // the row at an offset, as a prefill's last row
      const sampler = createGpuSampler(device, V);
      const history = Array.from({ length: 80 }, (_, i) => (i * 31 + 2) % V).concat([V - 1, V - 1]);
      let checked = 0;
      for (const [name, o] of settings) {
        for (const seed of big ? [11] : [11, 0xdeadbeef]) {
          for (const step of big ? [0, 5] : [0, 1, 2, 9]) {
            const s = samplerSettings({ ...o, seed });
            const enc = device.createCommandEncoder();
            sampler.encode(enc, { logits: buf, byteOffset: 5 * 4, history, step, settings: s });
            device.queue.submit([enc.finish()]);
            const got = await sampler.readToken();
            const want = sampleRef(logits, history, s, step);
            expect(got, `${name}, seed ${seed}, step ${step}`).toBe(want);
            checked++;
          }
        }
      }
      console.log(`V ${V}: ${checked} draws identical`);
      sampler.destroy();
      buf.destroy();
    });
  }

  it('ties: the lowest id wins, greedy and sampled at a tiny temperature', async () => {
    const { device } = await testGpu();
    const V = 5000;
    const logits = new Float32Array(V).fill(-1);
    for (const i of [4999, 1234, 3000, 2000]) logits[i] = 2;
    const buf = uploadStorage(device, logits, 'logits');
    const sampler = createGpuSampler(device, V);
    for (const o of [{ temperature: 0 }, { temperature: 1e-3, topK: 1 }]) {
      const s = samplerSettings(o);
      const enc = device.createCommandEncoder();
      sampler.encode(enc, { logits: buf, history: [], step: 0, settings: s });
      device.queue.submit([enc.finish()]);
      expect(await sampler.readToken()).toBe(1234);
      expect(sampleRef(logits, [], s, 0)).toBe(1234);
    }
    sampler.destroy();
    buf.destroy();
  });

  it('NaN or Inf logits: both samplers stop with a typed non-finite error, finite ones still sample', async () => {
    const { device } = await testGpu();
    const V = 5000;
    const cases: [string, (l: Float32Array) => void][] = [
      ['all NaN', (l) => l.fill(Number.NaN)],
      ['one +NaN', (l) => (l[77] = Number.NaN)],
      ['one +Inf', (l) => (l[4000] = Number.POSITIVE_INFINITY)],
    ];
    const sampler = createGpuSampler(device, V);
    for (const [name, poison] of cases) {
      const logits = randomF32(V, 5);
      poison(logits);
      const buf = uploadStorage(device, logits, 'logits');
      for (const o of [{ temperature: 0 }, { temperature: 0.8, topK: 40, seed: 3 }]) {
        const s = samplerSettings(o);
        const enc = device.createCommandEncoder();
        sampler.encode(enc, { logits: buf, history: [], step: 0, settings: s });
        device.queue.submit([enc.finish()]);
        await expect(sampler.readToken(), `${name} T=${o.temperature}`).rejects.toMatchObject({ code: 'non-finite' });
        expect(() => sampleRef(logits, [], s, 0), `${name} T=${o.temperature} (CPU)`).toThrow(/logits are NaN or ±Inf/);
      }
      buf.destroy();
    }
    // a -Inf logit is a legitimate "never" (e.g. a masked token): still samples
    const logits = randomF32(V, 6);
    logits[10] = Number.NEGATIVE_INFINITY;
    const buf = uploadStorage(device, logits, 'logits');
    const enc = device.createCommandEncoder();
    sampler.encode(enc, { logits: buf, history: [], step: 0, settings: samplerSettings({ temperature: 0 }) });
    device.queue.submit([enc.finish()]);
    expect(await sampler.readToken()).toBe(sampleRef(logits, [], samplerSettings({ temperature: 0 }), 0));
    sampler.destroy();
    buf.destroy();
  });
});
