/**
 * The streamed upload puts exactly the file's bytes on the GPU (in-place types) or exactly its
 * dequantized values (converted types), read back and compared with the reader's own bytes and
 * dequantize: rows of 34 bytes (Q8_0, not a multiple of 4), a Q4_1 matrix dequantized chunk by
 * chunk, an f32 vector, and a matrix spread over a 2-part split set.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { testGpu } from '../../gpu/testing/test-gpu.ts';
import { readBack } from '../../gpu/buffers.ts';
import { openGguf } from '../../gguf/reader.ts';
import { concat, ramp } from '../../gguf/test-fixtures.ts';
import { GgmlType } from '../../gguf/types.ts';
import { quantizedTensor, serializeGguf, splitGgufSpec, type GgufSpec } from '../../gguf/writer.ts';
import { uploadWeights } from './gpu-weights.ts';
import type { GpuContext } from '../../gpu/device.ts';

let ctx: GpuContext | undefined;
afterAll(() => ctx?.destroy());

const spec: GgufSpec = {
  metadata: [{ key: 'general.architecture', type: 'string', value: 'deepseek2' }],
  tensors: [
    quantizedTensor('a.q8', GgmlType.Q8_0, [32, 37], ramp(32 * 37)),
    quantizedTensor('b.q41', GgmlType.Q4_1, [64, 9, 3], ramp(64 * 27, 0.02)),
    quantizedTensor('c.vec', GgmlType.F32, [48], ramp(48)),
  ],
};

describe('uploadWeights streams chunks into unmapped buffers', () => {
  for (const [name, parts] of [
    ['a whole file', 1],
    ['a 2-part split set', 2],
  ] as const) {
    it(name, async () => {
      ctx ??= await testGpu();
      const bytes = parts === 1 ? [concat(serializeGguf(spec))] : splitGgufSpec(spec, parts).map((s) => concat(serializeGguf(s)));
      const file = await openGguf({ kind: 'blobs', blobs: bytes.map((b, i) => new File([b as BlobPart], `p${i}`)) });
      const w = await uploadWeights(ctx.device, file, [
        { name: 'a.q8', shape: [32, 37] },
        { name: 'b.q41', shape: [64, 9, 3] },
        { name: 'c.vec', shape: [48] },
      ]);
      try {
        const a = w.matrix('a.q8');
        const got = new Uint8Array(await readBack(ctx.device, a.parts[0].buffer, 34 * 37));
        expect(got).toEqual(await file.readBytes(file.tensor('a.q8')!));
        const b = w.matrix('b.q41');
        expect(b.type).toBe('F32');
        expect(new Float32Array(await readBack(ctx.device, b.parts[0].buffer, 64 * 27 * 4))).toEqual(await file.readF32('b.q41'));
        expect(new Float32Array(await readBack(ctx.device, w.vector('c.vec'), 48 * 4))).toEqual(await file.readF32('c.vec'));
      } finally {
        w.destroy();
        await file.close();
      }
    });
  }
});
