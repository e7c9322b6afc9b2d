import { describe, expect, it } from 'vitest';
import { serializeGguf, quantizedTensor, type GgufSpec } from './writer.ts';
import { openGguf } from './reader.ts';
import { GgmlType } from './types.ts';
import { concat, memorySource, ramp } from './test-fixtures.ts';
import { dequantize, quantize } from './codecs/index.ts';

const ok = { name: 'w', type: GgmlType.F32, shape: [2], data: new Uint8Array(8) };

function code(spec: GgufSpec): string {
  try {
    serializeGguf(spec);
    return 'ok';
  } catch (e) {
    return (e as { code: string }).code;
  }
}

describe('serializeGguf validates its input', () => {
  it('values outside their wire type', () => {
    expect(code({ metadata: [{ key: 'k', type: 'u32', value: 2 ** 32 }], tensors: [] })).toBe('bad-argument');
    expect(code({ metadata: [{ key: 'k', type: 'u32', value: -1 }], tensors: [] })).toBe('bad-argument');
    expect(code({ metadata: [{ key: 'k', type: 'u8', value: 1.5 }], tensors: [] })).toBe('bad-argument');
    expect(code({ metadata: [{ key: 'k', type: 'i64', value: 2n ** 63n }], tensors: [] })).toBe('bad-argument');
    expect(code({ metadata: [{ key: 'k', type: 'string', value: 3 }], tensors: [] })).toBe('bad-argument');
    expect(code({ metadata: [{ key: 'k', type: 'u32[]', value: 3 }], tensors: [] })).toBe('bad-argument');
    expect(code({ metadata: [{ key: 'k', type: 'x' as 'u8', value: 3 }], tensors: [] })).toBe('bad-argument');
    expect(
      code({
        metadata: [
          { key: 'k', type: 'u8', value: 1 },
          { key: 'k', type: 'u8', value: 1 },
        ],
        tensors: [],
      }),
    ).toBe('bad-argument');
  });

  it('tensors', () => {
    expect(code({ metadata: [], tensors: [ok] })).toBe('ok');
    expect(code({ metadata: [], tensors: [{ ...ok, data: new Uint8Array(7) }] })).toBe('bad-argument');
    expect(code({ metadata: [], tensors: [ok, ok] })).toBe('bad-argument');
    expect(code({ metadata: [], tensors: [{ ...ok, name: 'x'.repeat(64) }] })).toBe('bad-argument');
    expect(code({ metadata: [], tensors: [{ ...ok, type: 99 }] })).toBe('unsupported-quant');
    expect(code({ metadata: [], tensors: [{ ...ok, type: GgmlType.Q8_0, shape: [16] }] })).toBe('wrong-shape');
    expect(code({ metadata: [], tensors: [{ ...ok, shape: [1, 1, 1, 1, 2] }] })).toBe('bad-argument');
  });

  it('alignment', () => {
    expect(code({ metadata: [], tensors: [ok], alignment: 48 })).toBe('bad-argument');
    expect(code({ metadata: [{ key: 'general.alignment', type: 'u32', value: 64 }], tensors: [ok], alignment: 64 })).toBe('ok');
    expect(code({ metadata: [{ key: 'general.alignment', type: 'u32', value: 64 }], tensors: [ok] })).toBe('bad-argument');
  });

  it('counts are written as u32 when asked (what llama.cpp expects)', () => {
    const bytes = concat(serializeGguf({ metadata: [{ key: 'deepseek2.block_count', type: 'u32', value: 61 }], tensors: [] }));
    // magic(4) version(4) n_tensors(8) n_kv(8) key length(8) key(21) type(4) value(4)
    const o = 24 + 8 + 'deepseek2.block_count'.length;
    expect(new DataView(bytes.buffer).getUint32(o, true)).toBe(4); // GGUF type id of UINT32
    expect(new DataView(bytes.buffer).getUint32(o + 4, true)).toBe(61);
  });

  it('large headers (a DeepSeek-sized vocabulary) round-trip', async () => {
    const tokens = Array.from({ length: 129280 }, (_, i) => `tok_${i}_\u0120ab`);
    const spec: GgufSpec = {
      metadata: [
        { key: 'tokenizer.ggml.tokens', type: 'string[]', value: tokens },
        { key: 'tokenizer.ggml.token_type', type: 'i32[]', value: tokens.map((_, i) => i % 3) },
        { key: 'tokenizer.ggml.scores', type: 'f32[]', value: tokens.map((_, i) => -i) },
      ],
      tensors: [ok],
    };
    const g = await openGguf({ kind: 'bytes', source: memorySource(concat(serializeGguf(spec))) });
    expect(g.metadata['tokenizer.ggml.tokens']).toEqual(tokens);
    expect((g.metadata['tokenizer.ggml.token_type'] as number[])[129279]).toBe(129279 % 3);
    expect((g.metadata['tokenizer.ggml.scores'] as number[])[5]).toBe(-5);
    expect(await g.readBytes(g.tensors[0])).toEqual(ok.data);
  });

  it('quantizedTensor stores a token_embd in any codec type, readable row by row', async () => {
    const values = ramp(256 * 4);
    const spec: GgufSpec = { metadata: [], tensors: [quantizedTensor('token_embd.weight', GgmlType.Q6_K, [256, 4], values)] };
    const g = await openGguf({ kind: 'bytes', source: memorySource(concat(serializeGguf(spec))) });
    const row2 = await g.readRowsF32('token_embd.weight', 2, 1);
    expect(row2).toEqual(dequantize(GgmlType.Q6_K, quantize(GgmlType.Q6_K, values), 1024).subarray(512, 768));
  });
});
