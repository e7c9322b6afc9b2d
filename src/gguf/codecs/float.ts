/** Unquantized element types: F32 (4 B), F16 (2 B), BF16 (2 B), one value per "block". */
import { bf16ToF32, f16Lookup, f32ToBf16, f32ToF16 } from './half.ts';

export function dequantizeF32(bytes: Uint8Array, count: number): Float32Array {
  // Copy: the source view may sit at an offset that is not a multiple of 4.
  return new Float32Array(bytes.slice(0, count * 4).buffer);
}

export function quantizeF32(values: Float32Array): Uint8Array {
  return new Uint8Array(values.slice().buffer);
}

export function dequantizeF16(bytes: Uint8Array, count: number): Float32Array {
  const t = f16Lookup();
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = t[bytes[2 * i] | (bytes[2 * i + 1] << 8)];
  return out;
}

export function quantizeF16(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    const h = f32ToF16(values[i]);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >> 8;
  }
  return out;
}

export function dequantizeBF16(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = bf16ToF32(bytes[2 * i] | (bytes[2 * i + 1] << 8));
  return out;
}

export function quantizeBF16(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    const h = f32ToBf16(values[i]);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >> 8;
  }
  return out;
}
