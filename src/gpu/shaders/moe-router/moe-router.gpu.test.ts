import { describe, expect, it } from 'vitest';
import { testGpu, maxAbsDiff, randomF32 } from '../../testing/test-gpu.ts';
import { uploadStorage, createStorage, readBack } from '../../buffers.ts';
import { encodeMoeRouter } from './moe-router.ts';
import { routeRef, type RouterOptions } from './moe-router.ref.ts';

const cases: [string, number, RouterOptions, boolean][] = [
  ['softmax, 8 experts top-2', 8, { gating: 'softmax', topK: 2, groupCount: 1, groupsUsed: 1, normalize: false, scale: 1 }, false],
  ['sigmoid + bias + norm + scale (DeepSeek-V3)', 64, { gating: 'sigmoid', topK: 6, groupCount: 1, groupsUsed: 1, normalize: true, scale: 2.5 }, true],
  ['sigmoid + bias + 8 groups / 4 used', 256, { gating: 'sigmoid', topK: 8, groupCount: 8, groupsUsed: 4, normalize: true, scale: 2.5 }, true],
  ['softmax_weight', 16, { gating: 'softmax_weight', topK: 4, groupCount: 1, groupsUsed: 1, normalize: true, scale: 1 }, false],
  [
    'sqrt_softplus, 60 experts (not a power of two)',
    60,
    { gating: 'sqrt_softplus', topK: 3, groupCount: 4, groupsUsed: 2, normalize: false, scale: 1.5 },
    true,
  ],
];

describe('moe-router kernel', () => {
  for (const [name, X, opts, withBias] of cases) {
    it(`matches the CPU reference: ${name}`, async () => {
      const { device } = await testGpu();
      const T = 5;
      const logits = randomF32(T * X, X + opts.topK, 3);
      const bias = withBias ? randomF32(X, 7, 0.3) : new Float32Array(X);
      const probs = createStorage(device, T * X * 4, 'probs');
      const experts = createStorage(device, T * opts.topK * 4, 'experts');
      const weights = createStorage(device, T * opts.topK * 4, 'weights');
      const enc = device.createCommandEncoder();
      encodeMoeRouter(device, enc, {
        logits: uploadStorage(device, logits, 'logits'),
        bias: uploadStorage(device, bias, 'bias'),
        probs,
        experts,
        weights,
        tokens: T,
        nExpert: X,
        options: opts,
      });
      device.queue.submit([enc.finish()]);
      const gotProbs = new Float32Array(await readBack(device, probs));
      const gotExperts = new Uint32Array(await readBack(device, experts));
      const gotWeights = new Float32Array(await readBack(device, weights));
      for (let t = 0; t < T; t++) {
        const want = routeRef(logits.subarray(t * X, (t + 1) * X), withBias ? bias : undefined, opts);
        expect(maxAbsDiff(gotProbs.subarray(t * X, (t + 1) * X), want.probs)).toBeLessThan(1e-5);
        expect(Array.from(gotExperts.subarray(t * opts.topK, (t + 1) * opts.topK))).toEqual(Array.from(want.experts));
        expect(maxAbsDiff(gotWeights.subarray(t * opts.topK, (t + 1) * opts.topK), want.weights)).toBeLessThan(1e-5);
      }
    });
  }

  it('breaks exact ties toward the lower expert index, like the reference', async () => {
    const { device } = await testGpu();
    const X = 8;
    const logits = new Float32Array([0.5, 1, 1, 0.2, 1, 0.1, 0.3, 1]);
    const opts: RouterOptions = { gating: 'sigmoid', topK: 3, groupCount: 1, groupsUsed: 1, normalize: false, scale: 1 };
    const experts = createStorage(device, 12, 'experts');
    const enc = device.createCommandEncoder();
    encodeMoeRouter(device, enc, {
      logits: uploadStorage(device, logits, 'logits'),
      bias: uploadStorage(device, new Float32Array(X), 'bias'),
      probs: createStorage(device, X * 4, 'probs'),
      experts,
      weights: createStorage(device, 12, 'weights'),
      tokens: 1,
      nExpert: X,
      options: opts,
    });
    device.queue.submit([enc.finish()]);
    expect(Array.from(new Uint32Array(await readBack(device, experts)))).toEqual([1, 2, 4]);
  });
});
