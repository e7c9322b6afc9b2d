// The GPU's activation rounding against the CPU reference (src/model/reference/activation-quant.ts, as
// llama.cpp's quantize_row_q8_0 / q8_K): blocks of mixed scale, a negative extreme, an all-zero block, tiny
// values (an f16-subnormal Q8_0 scale). WGSL's f32 division is exact to 2.5 ulp only (SwiftShader's is an
// approximate reciprocal), so a block's scale may be an ulp off the CPU's: every value within 4 ulp of the
// reference, except at most 1 in 1000 that sit on a rounding tie and land one quantum away.
import { describe, expect, it } from 'vitest';
import { roundActivations } from '../../../model/reference/activation-quant.ts';
import { GgmlType } from '../../../gguf/types.ts';
import { readF32, uploadStorage } from '../../buffers.ts';
import { randomF32, testGpu } from '../../testing/test-gpu.ts';
import { submitChecked } from '../common/quant-testing.ts';
import { createRoundActivations, gpuRoundingFor, type GpuRounding } from './round-activations.ts';

function input(rows: number, n: number, block: number, seed: number): Float32Array {
  const x = randomF32(rows * n, seed);
  for (let b = 0; b < x.length / block; b++) {
    const scale = [1, 40, 1e-3, 1e-6][b % 4]; // 1e-6: Q8_0's d = amax/127 is an f16 subnormal
    for (let j = 0; j < block; j++) x[b * block + j] *= scale;
  }
  x.fill(0, block, 2 * block); // block 1 all zero
  x[2 * block + 5] = -50; // block 2's extreme is negative
  return x;
}

describe('round-activations', () => {
  for (const [kind, rows, n] of [
    ['q8_k', 1, 1024],
    ['q8_k', 3, 512],
    ['q8_0', 1, 256],
    ['q8_0', 4, 96],
  ] as [GpuRounding, number, number][]) {
    it(`${kind}: ${rows} row(s) of ${n} = the CPU reference`, async () => {
      const { device } = await testGpu();
      const block = kind === 'q8_k' ? 256 : 32;
      const x = input(rows, n, block, 7 + n);
      const pad = 16; // row 0 at an offset: the rest of the buffer untouched
      const buf = uploadStorage(device, Float32Array.from([...new Array(pad).fill(3.25), ...x]), 'x');
      const k = createRoundActivations(device, { x: buf, offset: pad, rows, n, kind });
      await submitChecked(device, (enc) => k.encode(enc));
      const got = await readF32(device, buf, pad + x.length);
      expect(Array.from(got.subarray(0, pad))).toEqual(new Array(pad).fill(3.25));
      const want = roundActivations(kind, x);
      let differ = 0;
      for (let b = 0; b < x.length / block; b++) {
        let amax = 0;
        for (let j = 0; j < block; j++) amax = Math.max(amax, Math.abs(x[b * block + j]));
        const quantum = amax / 127;
        for (let j = 0; j < block; j++) {
          const i = b * block + j;
          const d = Math.abs(got[pad + i] - want[i]);
          if (d <= 4 * 2 ** -23 * Math.abs(want[i])) continue;
          differ++;
          expect(d).toBeLessThanOrEqual(quantum * 1.01);
        }
      }
      expect(differ).toBeLessThanOrEqual(Math.ceil(x.length / 1000));
      // rounding changed the values (the test would see a kernel that does nothing)
      expect(want.some((v, i) => v !== x[i])).toBe(true);
      k.destroy();
    });
  }

  it('picks one rounding for a set of weight types, none when they disagree or stay f32', () => {
    expect(gpuRoundingFor([GgmlType.Q4_K, GgmlType.Q6_K])).toBe('q8_k');
    expect(gpuRoundingFor([GgmlType.Q8_0, GgmlType.Q4_0])).toBe('q8_0');
    expect(gpuRoundingFor([GgmlType.Q8_0, GgmlType.Q4_K])).toBeNull();
    expect(gpuRoundingFor([GgmlType.F32])).toBeNull();
    expect(gpuRoundingFor([GgmlType.F16])).toBeNull();
  });

  it('rows that are not whole blocks are refused with a typed error', async () => {
    const { device } = await testGpu();
    const b = uploadStorage(device, new Float32Array(4), 'b');
    expect(() => createRoundActivations(device, { x: b, rows: 1, n: 100, kind: 'q8_k' })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
  });
});
