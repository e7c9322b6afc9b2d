/**
 * linearChunk with a rounding (roundInput) and a backend matmul, as the CPU engine runs it: each
 * group's input slice rounded on its own, then the backend's matmul, equal to the reference's own
 * path (`linear` per group over f32 weights); the caller's inputs are left as they were.
 */
import { describe, expect, it } from 'vitest';
import { GgmlType } from '../../gguf/types.ts';
import { createPrng } from '../random.ts';
import { activationRounding } from './activation-quant.ts';
import { linearChunk, weightsFromMap, type ChunkOptions, type ReferenceWeights } from './weights.ts';

describe('linearChunk with roundInput', () => {
  it('grouped, overlapping slices: the backend matmul on rounded slices = linear per group', () => {
    const rng = createPrng(7);
    const [inDim, outDim, groupRows] = [32, 8, 2];
    const W = Float32Array.from({ length: inDim * 12 }, () => rng.normal());
    // 4 groups of 2 rows, slices of 32 starting 16 apart (each value in two slices), after 3 others
    const opt = { rowOffset: 4, xOffset: 3, groupRows, xGroupStride: 16 };
    const xs = [0, 1].map(() => Float32Array.from({ length: 3 + 3 * 16 + inDim }, () => 3 * rng.normal()));
    const before = xs.map((x) => x.slice());
    const round = activationRounding(GgmlType.Q8_0)!;
    const plain = weightsFromMap(new Map([['w', W]]));
    plain.roundInput = () => round;
    const seen: Float32Array[] = [];
    const backend: ReferenceWeights = {
      ...plain,
      roundInput: () => round,
      // a naive backend matmul reading ChunkOptions as QuantWeights does
      matmul: (_name, ins, K, N, o: ChunkOptions) =>
        ins.map((x) => {
          seen.push(x);
          const y = new Float32Array(N);
          for (let r = 0; r < N; r++) {
            const at = o.xOffset + Math.floor(r / o.groupRows) * o.xGroupStride;
            let s = 0;
            for (let i = 0; i < K; i++) s += W[(o.rowOffset + r) * K + i] * x[at + i];
            y[r] = s;
          }
          return y;
        }),
    };
    const got = linearChunk(backend, 'w', xs, inDim, outDim, opt);
    const want = linearChunk(plain, 'w', xs, inDim, outDim, opt);
    got.forEach((y, t) => expect(Array.from(y)).toEqual(Array.from(want[t])));
    // what the backend saw: each slice rounded on its own, back to back
    for (let g = 0; g < 4; g++) {
      const at = 3 + g * 16;
      expect(Array.from(seen[0].subarray(g * inDim, (g + 1) * inDim))).toEqual(Array.from(round(xs[0].subarray(at, at + inDim))));
    }
    xs.forEach((x, t) => expect(Array.from(x)).toEqual(Array.from(before[t])));
  });
});
