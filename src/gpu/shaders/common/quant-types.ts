/**
 * The GGUF weight types the GPU kernels read in place, with their block geometry (ggml's numbers).
 * A row of K values is K / blockValues blocks of blockBytes each, stored back to back; a tensor with
 * ne {K, N, ...} is N·... such rows. Float types are "blocks" of one value.
 */
export type WeightType = 'F32' | 'F16' | 'BF16' | 'Q8_0' | 'Q4_0' | 'Q5_0' | 'Q4_K' | 'Q5_K' | 'Q6_K';

export interface WeightTypeInfo {
  name: WeightType;
  /** ggml_type id as stored in GGUF tensor infos. */
  ggmlId: number;
  /** Values per block. */
  blockValues: number;
  /** Bytes per block. */
  blockBytes: number;
}

/** Values in a K-quant super-block (ggml QK_K). */
export const QK_K = 256;
/** Values in a Q8_0 / Q4_0 block (ggml QK8_0, QK4_0). */
export const QK8_0 = 32;
export const QK4_0 = 32;
export const QK5_0 = 32;

export const WEIGHT_TYPES: Record<WeightType, WeightTypeInfo> = {
  F32: { name: 'F32', ggmlId: 0, blockValues: 1, blockBytes: 4 },
  F16: { name: 'F16', ggmlId: 1, blockValues: 1, blockBytes: 2 },
  Q4_0: { name: 'Q4_0', ggmlId: 2, blockValues: QK4_0, blockBytes: 2 + QK4_0 / 2 }, // 18
  Q5_0: { name: 'Q5_0', ggmlId: 6, blockValues: QK5_0, blockBytes: 2 + 4 + QK5_0 / 2 }, // 22: Q4_K_M's fallback where a row is not a multiple of 256
  Q8_0: { name: 'Q8_0', ggmlId: 8, blockValues: QK8_0, blockBytes: 2 + QK8_0 }, // 34
  Q4_K: { name: 'Q4_K', ggmlId: 12, blockValues: QK_K, blockBytes: 2 + 2 + 12 + QK_K / 2 }, // 144
  Q5_K: { name: 'Q5_K', ggmlId: 13, blockValues: QK_K, blockBytes: 2 + 2 + 12 + QK_K / 8 + QK_K / 2 }, // 176
  Q6_K: { name: 'Q6_K', ggmlId: 14, blockValues: QK_K, blockBytes: QK_K / 2 + QK_K / 4 + QK_K / 16 + 2 }, // 210
  BF16: { name: 'BF16', ggmlId: 30, blockValues: 1, blockBytes: 2 },
};

export const ALL_WEIGHT_TYPES = Object.keys(WEIGHT_TYPES) as WeightType[];

export function isFloatType(t: WeightType): boolean {
  return WEIGHT_TYPES[t].blockValues === 1;
}

/** The weight type for a ggml type id, or undefined when the kernels can't read it. */
export function weightTypeFromGgml(id: number): WeightType | undefined {
  return ALL_WEIGHT_TYPES.find((t) => WEIGHT_TYPES[t].ggmlId === id);
}

/** Bytes of one row of K values; throws when K is not a whole number of blocks. */
export function rowBytes(type: WeightType, k: number): number {
  const { blockValues, blockBytes } = WEIGHT_TYPES[type];
  if (!Number.isInteger(k) || k <= 0 || k % blockValues !== 0) {
    throw new Error(`${type} rows must hold a positive multiple of ${blockValues} values, got ${k}`);
  }
  return (k / blockValues) * blockBytes;
}

/** Values every kernel thread decodes at once: one "chunk" (a Q8_0/Q4_0 block, 1/8 of a K-quant block, 32 floats). */
export const CHUNK = 32;

/** Chunks per row of K values (the last chunk of a float row may be partial). */
export function chunksPerRow(k: number): number {
  return Math.ceil(k / CHUNK);
}
