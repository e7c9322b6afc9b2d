import { describe, expect, it } from 'vitest';
import { dequantize } from '../../../gguf/codecs/index.ts';
import { GgmlType, blockLayout } from '../../../gguf/types.ts';
import { ALL_WEIGHT_TYPES, WEIGHT_TYPES, rowBytes } from './quant-types.ts';
import { randomWeightBytes } from './quant-testing.ts';
import { dequantizeRef } from './blocks.ref.ts';

// The kernels' CPU mirror (blocks.ref.ts) must agree bit for bit with the project's ggml-exact codecs,
// so the GPU tests' reference is ggml's dequantization.
describe('kernel block geometry and decoding agree with src/gguf', () => {
  for (const t of ALL_WEIGHT_TYPES) {
    it(t, () => {
      const info = WEIGHT_TYPES[t];
      expect(GgmlType[t]).toBe(info.ggmlId);
      expect(blockLayout(info.ggmlId)).toMatchObject({ blockSize: info.blockValues, bytesPerBlock: info.blockBytes });
      const k = info.blockValues === 1 ? 64 : info.blockValues * 2;
      const bytes = randomWeightBytes(t, 3, k, 42);
      expect(bytes.length).toBe(3 * rowBytes(t, k));
      const mine = dequantizeRef(t, bytes, 3 * k);
      const theirs = dequantize(info.ggmlId, bytes, 3 * k);
      expect(Buffer.from(mine.buffer).equals(Buffer.from(theirs.buffer))).toBe(true);
    });
  }
});
