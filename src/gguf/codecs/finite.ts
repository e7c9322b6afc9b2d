/**
 * Finding NaN and ±Inf in tensor data without dequantizing it: float tensors are scanned value by
 * value, and a quantized block is finite exactly when its f16 scales are (its quants are integers),
 * so only the scales are read: 2-4 bytes of every 18-210. A flipped exponent bit in a GGUF is
 * otherwise silent: one NaN in output_norm made every logit NaN and the sampler emit token 0 forever.
 */
import { SparseScopeError } from '../../errors.ts';
import { blockLayout, GgmlType, typeName } from '../types.ts';

/** Byte offsets of the f16 scales inside one block (ggml-common.h's block structs). */
const F16_SCALES: Partial<Record<number, readonly number[]>> = {
  [GgmlType.Q4_0]: [0],
  [GgmlType.Q4_1]: [0, 2],
  [GgmlType.Q5_0]: [0],
  [GgmlType.Q5_1]: [0, 2],
  [GgmlType.Q8_0]: [0],
  [GgmlType.Q8_1]: [0, 2],
  [GgmlType.Q2_K]: [80, 82], // scales[16], qs[64], d, dmin
  [GgmlType.Q3_K]: [108], // hmask[32], qs[64], scales[12], d
  [GgmlType.Q4_K]: [0, 2],
  [GgmlType.Q5_K]: [0, 2], // d, dmin, …
  [GgmlType.Q6_K]: [208], // ql[128], qh[64], scales[16], d
  [GgmlType.IQ4_NL]: [0],
  [GgmlType.IQ4_XS]: [0],
};

const f16NonFinite = (h: number) => (h & 0x7c00) === 0x7c00;
const bf16NonFinite = (h: number) => (h & 0x7f80) === 0x7f80;

/** Index of the first non-finite value (float types) or block (quantized), or -1; -1 for types it cannot check. */
export function firstNonFinite(type: number, bytes: Uint8Array): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case GgmlType.F32:
      for (let i = 0; i + 4 <= bytes.length; i += 4) if (!Number.isFinite(v.getFloat32(i, true))) return i / 4;
      return -1;
    case GgmlType.F16:
      for (let i = 0; i + 2 <= bytes.length; i += 2) if (f16NonFinite(v.getUint16(i, true))) return i / 2;
      return -1;
    case GgmlType.BF16:
      for (let i = 0; i + 2 <= bytes.length; i += 2) if (bf16NonFinite(v.getUint16(i, true))) return i / 2;
      return -1;
  }
  const scales = F16_SCALES[type];
  if (!scales) return -1;
  const { bytesPerBlock } = blockLayout(type);
  for (let b = 0, at = 0; at + bytesPerBlock <= bytes.length; b++, at += bytesPerBlock) {
    for (const s of scales) if (f16NonFinite(v.getUint16(at + s, true))) return b;
  }
  return -1;
}

/** Throws 'non-finite' naming the tensor if the (dequantized) values hold a NaN or ±Inf. */
export function assertFiniteValues(name: string, values: Float32Array): void {
  const i = values.findIndex((x) => !Number.isFinite(x));
  if (i >= 0) throw nonFinite(name, `value ${i}`);
}

function nonFinite(name: string, where: string): SparseScopeError {
  const layer = /^blk\.(\d+)\./.exec(name)?.[1];
  return new SparseScopeError(
    'non-finite',
    `tensor "${name}"${layer !== undefined ? ` (layer ${layer})` : ''} holds NaN or ±Inf: ${where}; the file is corrupt (a flipped bit?) and cannot give meaningful output`,
  );
}

/**
 * Throws 'non-finite' naming the tensor and where, if `bytes` (of type `type`, starting at
 * `firstIndex` values/blocks into the tensor) hold a NaN or ±Inf.
 */
export function assertFiniteTensor(name: string, type: number, bytes: Uint8Array, firstIndex = 0): void {
  const i = firstNonFinite(type, bytes);
  if (i < 0) return;
  const float = type === GgmlType.F32 || type === GgmlType.F16 || type === GgmlType.BF16;
  throw nonFinite(name, float ? `value ${firstIndex + i}` : `the scale of ${typeName(type)} block ${firstIndex + i}`);
}
