/**
 * Codec dispatch by ggml type id.
 * dequantize(type, bytes, count): `count` values (a whole number of blocks) from `bytes`, which must
 * hold at least count / blockSize blocks; bit-exact with ggml's dequantize_row_*.
 * quantize(type, values): ggml's reference quantizer (quantize_row_*_ref) for the type.
 */
import { SparseScopeError } from '../../errors.ts';
import { GgmlType, blockLayout, isKnownType, typeName } from '../types.ts';
import { dequantizeBF16, dequantizeF16, dequantizeF32, quantizeBF16, quantizeF16, quantizeF32 } from './float.ts';
import { dequantizeQ8_0, quantizeQ8_0 } from './q8_0.ts';
import { dequantizeQ4_0, quantizeQ4_0 } from './q4_0.ts';
import { dequantizeQ4_1, quantizeQ4_1 } from './q4_1.ts';
import { dequantizeQ5_0, quantizeQ5_0 } from './q5_0.ts';
import { dequantizeQ5_1, quantizeQ5_1 } from './q5_1.ts';
import { dequantizeQ2_K, quantizeQ2_K } from './q2_k.ts';
import { dequantizeQ3_K, quantizeQ3_K } from './q3_k.ts';
import { dequantizeQ4_K, quantizeQ4_K } from './q4_k.ts';
import { dequantizeQ5_K, quantizeQ5_K } from './q5_k.ts';
import { dequantizeQ6_K, quantizeQ6_K } from './q6_k.ts';

export { f16ToF32, f32ToF16, bf16ToF32, f32ToBf16, roundToF16 } from './half.ts';

interface Codec {
  dequantize(bytes: Uint8Array, count: number): Float32Array;
  quantize(values: Float32Array): Uint8Array;
}

const CODECS = new Map<number, Codec>([
  [GgmlType.F32, { dequantize: dequantizeF32, quantize: quantizeF32 }],
  [GgmlType.F16, { dequantize: dequantizeF16, quantize: quantizeF16 }],
  [GgmlType.BF16, { dequantize: dequantizeBF16, quantize: quantizeBF16 }],
  [GgmlType.Q8_0, { dequantize: dequantizeQ8_0, quantize: quantizeQ8_0 }],
  [GgmlType.Q4_0, { dequantize: dequantizeQ4_0, quantize: quantizeQ4_0 }],
  [GgmlType.Q4_1, { dequantize: dequantizeQ4_1, quantize: quantizeQ4_1 }],
  [GgmlType.Q5_0, { dequantize: dequantizeQ5_0, quantize: quantizeQ5_0 }],
  [GgmlType.Q5_1, { dequantize: dequantizeQ5_1, quantize: quantizeQ5_1 }],
  [GgmlType.Q2_K, { dequantize: dequantizeQ2_K, quantize: quantizeQ2_K }],
  [GgmlType.Q3_K, { dequantize: dequantizeQ3_K, quantize: quantizeQ3_K }],
  [GgmlType.Q4_K, { dequantize: dequantizeQ4_K, quantize: quantizeQ4_K }],
  [GgmlType.Q5_K, { dequantize: dequantizeQ5_K, quantize: quantizeQ5_K }],
  [GgmlType.Q6_K, { dequantize: dequantizeQ6_K, quantize: quantizeQ6_K }],
]);

/** Type ids that dequantize and quantize accept. */
export const SUPPORTED_CODEC_TYPES: readonly number[] = [...CODECS.keys()];

export function isCodecSupported(type: number): boolean {
  return CODECS.has(type);
}

function codecFor(type: number, what: string): Codec {
  const c = CODECS.get(type);
  if (c === undefined) {
    const known = isKnownType(type) ? `${typeName(type)} (ggml type ${type})` : `unknown ggml type id ${type}`;
    throw new SparseScopeError('unsupported-quant', `cannot ${what} ${known}; supported: ${SUPPORTED_CODEC_TYPES.map((t) => typeName(t)).join(', ')}`);
  }
  return c;
}

function checkCount(type: number, count: number): number {
  const { blockSize, bytesPerBlock } = blockLayout(type);
  if (!Number.isSafeInteger(count) || count < 0 || count % blockSize !== 0) {
    throw new SparseScopeError('bad-argument', `${typeName(type)} stores values in blocks of ${blockSize}; ${count} is not a whole number of blocks`);
  }
  return (count / blockSize) * bytesPerBlock;
}

export function dequantize(type: number, bytes: Uint8Array, count: number): Float32Array {
  const codec = codecFor(type, 'dequantize');
  const need = checkCount(type, count);
  if (bytes.length < need) {
    throw new SparseScopeError('bad-argument', `${count} ${typeName(type)} values need ${need} bytes but ${bytes.length} were given`);
  }
  return codec.dequantize(bytes, count);
}

export function quantize(type: number, values: Float32Array): Uint8Array {
  const codec = codecFor(type, 'quantize');
  checkCount(type, values.length);
  return codec.quantize(values);
}
