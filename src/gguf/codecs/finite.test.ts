import { describe, expect, it } from 'vitest';
import { buildFixture } from '../../tools/fixture/fixture.ts';
import { serializeGguf } from '../writer.ts';
import { concat, memorySource } from '../test-fixtures.ts';
import { openGguf } from '../reader.ts';
import { loadReferenceModelData } from '../../model/reference/weights.ts';
import { blockLayout, GgmlType, typeName } from '../types.ts';
import { dequantize, quantize } from './index.ts';
import { assertFiniteTensor, firstNonFinite } from './finite.ts';

const f16 = { nan: 0x7e00, inf: 0x7c00, ninf: 0xfc00 };

/** the naive check: dequantize everything and look at every value */
function naiveFirstBad(type: number, bytes: Uint8Array, count: number): number {
  const v = dequantize(type, bytes, count);
  const { blockSize } = blockLayout(type);
  const i = v.findIndex((x) => !Number.isFinite(x));
  return i < 0 ? -1 : Math.floor(i / blockSize);
}

describe('firstNonFinite (scales only) = dequantize-and-scan', () => {
  const types = ['Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'F16', 'BF16', 'F32'] as const;
  for (const name of types) {
    it(name, () => {
      const type = GgmlType[name];
      const { blockSize, bytesPerBlock } = blockLayout(type);
      const count = blockSize * 8;
      const values = Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.37) * 2);
      const clean = quantize(type, values);
      expect(firstNonFinite(type, clean)).toBe(-1);
      expect(naiveFirstBad(type, clean, count)).toBe(-1);
      // flip every 16-bit word of block 5 to NaN / Inf in turn: the scan must agree with the naive check
      let caught = 0;
      for (let at = 5 * bytesPerBlock; at + 2 <= 6 * bytesPerBlock; at += 2) {
        // f16 patterns; for BF16 and the high half of an F32 the same exponent bits sit higher
        const patterns = name === 'BF16' || name === 'F32' ? [0x7fc0, 0x7f80, 0xff80] : [f16.nan, f16.inf, f16.ninf];
        for (const bits of patterns) {
          const b = clean.slice();
          new DataView(b.buffer).setUint16(at, bits, true);
          const want = naiveFirstBad(type, b, count);
          expect([name, at, bits, firstNonFinite(type, b)]).toEqual([name, at, bits, want]);
          if (want >= 0) caught++;
        }
      }
      expect(caught, `some word of a ${typeName(type)} block must be a scale`).toBeGreaterThan(0);
    });
  }
});

describe('loading refuses NaN weights, naming the tensor', () => {
  it('one NaN in output_norm.weight (it made cli generate emit token 0 forever)', async () => {
    const fx = buildFixture({ arch: 'deepseek32', gating: 'sigmoid', qtype: 'Q8_0', seed: 3 });
    const tensors = fx.tensors.map((t) => {
      if (t.name !== 'output_norm.weight') return t;
      const data = t.data.slice();
      new DataView(data.buffer).setFloat32(4 * 7, Number.NaN, true);
      return { ...t, data };
    });
    const file = await openGguf({ kind: 'bytes', source: memorySource(concat(serializeGguf({ metadata: fx.metadata, tensors }))) });
    await expect(loadReferenceModelData(file)).rejects.toMatchObject({
      code: 'non-finite',
      message: expect.stringMatching(/tensor "output_norm\.weight" holds NaN or ±Inf: value 7/),
    });
  });

  it('names the layer of a quantized block', () => {
    const b = quantize(GgmlType.Q8_0, new Float32Array(64).fill(1));
    new DataView(b.buffer).setUint16(34, f16.inf, true);
    expect(() => assertFiniteTensor('blk.2.ffn_down.weight', GgmlType.Q8_0, b, 10)).toThrow(
      /"blk\.2\.ffn_down\.weight" \(layer 2\) holds NaN or ±Inf: the scale of Q8_0 block 11/,
    );
  });
});
