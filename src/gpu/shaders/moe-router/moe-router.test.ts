import { describe, expect, it } from 'vitest';
import { routeRef } from './moe-router.ref.ts';

describe('MoE router CPU reference', () => {
  it('chooses by biased score but weights by the unbiased probability', () => {
    // sigmoid(0) = 0.5, sigmoid(ln 3) = 0.75. Expert 0 has the highest prob, but the bias lifts 2 and 3.
    const logits = new Float32Array([Math.log(3), 0, 0, 0]);
    const bias = new Float32Array([0, 0, 0.3, 0.4]);
    const r = routeRef(logits, bias, { gating: 'sigmoid', topK: 2, groupCount: 1, groupsUsed: 1, normalize: true, scale: 2 });
    expect(Array.from(r.experts)).toEqual([3, 2]); // 0.9 and 0.8 beat 0.75
    expect(r.weights[0]).toBeCloseTo(1, 6); // (0.5 / (0.5 + 0.5)) * 2
    expect(r.weights[1]).toBeCloseTo(1, 6);
  });

  it('drops whole groups by the sum of their top two', () => {
    // Groups {0,1} and {2,3}: raw-logit sums 5+0=5 vs 4+4=8, so only group 1 stays although expert 0 is best.
    const logits = new Float32Array([5, 0, 4, 4]);
    const r = routeRef(logits, undefined, { gating: 'softmax_weight', topK: 2, groupCount: 2, groupsUsed: 1, normalize: false, scale: 1 });
    expect(Array.from(r.experts)).toEqual([2, 3]);
    expect(r.weights[0]).toBeCloseTo(0.5, 6);
  });
});
