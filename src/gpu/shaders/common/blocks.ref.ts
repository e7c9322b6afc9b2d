/**
 * CPU reference for the kernels' block loaders: the project's ggml-exact codecs (src/gguf/codecs,
 * bit-identical to llama.cpp's dequantize_row_*), addressed by the kernels' weight-type names.
 */
import { dequantize, f16ToF32, bf16ToF32 } from '../../../gguf/codecs/index.ts';
import { rowBytes, WEIGHT_TYPES, type WeightType } from './quant-types.ts';

export { f16ToF32, bf16ToF32 };

export function dequantizeRef(type: WeightType, bytes: Uint8Array, count: number): Float32Array {
  return dequantize(WEIGHT_TYPES[type].ggmlId, bytes, count);
}

/** Dequantizes `rows` rows of K values each. */
export function dequantizeRowsRef(type: WeightType, bytes: Uint8Array, rows: number, k: number): Float32Array {
  return dequantizeRef(type, bytes.subarray(0, rows * rowBytes(type, k)), rows * k);
}
