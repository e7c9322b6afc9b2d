/**
 * Helpers for the GGUF tests (and for colleagues' fixture tests): a small file with every metadata
 * value type and one tensor per supported type, plus an in-memory ByteSource.
 */
import type { ByteSource } from './byte-source.ts';
import { quantize, SUPPORTED_CODEC_TYPES } from './codecs/index.ts';
import { blockLayout, typeName } from './types.ts';
import type { GgufMetadataEntry, GgufSpec, GgufTensorSpec } from './writer.ts';

export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

export function memorySource(bytes: Uint8Array, label = 'memory.gguf'): ByteSource {
  return {
    size: bytes.length,
    label,
    read: async (offset, length) => bytes.slice(offset, offset + length),
    close: async () => {},
  };
}

export function ramp(n: number, scale = 0.01): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.sin(i * 0.37) * (1 + (i % 7)) * scale * 10;
  return v;
}

export const ALL_VALUE_TYPES: GgufMetadataEntry[] = [
  { key: 'general.architecture', type: 'string', value: 'deepseek2' },
  { key: 't.u8', type: 'u8', value: 255 },
  { key: 't.i8', type: 'i8', value: -128 },
  { key: 't.u16', type: 'u16', value: 65535 },
  { key: 't.i16', type: 'i16', value: -32768 },
  { key: 't.u32', type: 'u32', value: 4294967295 },
  { key: 't.i32', type: 'i32', value: -2147483648 },
  { key: 't.u64', type: 'u64', value: 18446744073709551615n },
  { key: 't.i64', type: 'i64', value: -9223372036854775808n },
  { key: 't.f32', type: 'f32', value: Math.fround(0.1) },
  { key: 't.f64', type: 'f64', value: 0.1 },
  { key: 't.bool', type: 'bool', value: true },
  { key: 't.string', type: 'string', value: 'héllo ✓ 日本' },
  { key: 't.empty', type: 'string', value: '' },
  { key: 't.strings', type: 'string[]', value: ['a', '', 'ü', '<|begin▁of▁sentence|>'] },
  { key: 't.f32s', type: 'f32[]', value: [1.5, -2, 0] },
  { key: 't.i32s', type: 'i32[]', value: [1, -2, 3] },
  { key: 't.u64s', type: 'u64[]', value: [1n, 2n ** 40n] },
  { key: 't.bools', type: 'bool[]', value: [true, false] },
  { key: 't.u8s', type: 'u8[]', value: [] },
];

/** One 2-row tensor per codec type (rows of 256 values), named after the type. */
export function tensorsOfEveryType(): GgufTensorSpec[] {
  return SUPPORTED_CODEC_TYPES.map((type) => {
    const n = 512;
    void blockLayout(type);
    return { name: `t.${typeName(type)}`, type, shape: [256, 2], data: quantize(type, ramp(n)) };
  });
}

export function sampleSpec(alignment?: number): GgufSpec {
  return { metadata: ALL_VALUE_TYPES, tensors: tensorsOfEveryType(), alignment };
}
