/**
 * The GGUF weight types the GPU kernels read in place, with their block geometry (ggml's numbers).
 * A row of K values is K / blockValues blocks of blockBytes each, stored back to back; a tensor with
 * ne {K, N, ...} is N·... such rows. Float types are "blocks" of one value.
 */
import { GgmlType, blockLayout } from '../../../gguf/types.ts';

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
export { QK_K } from '../../../gguf/types.ts';

// The block geometry is gguf/types.ts's one table (ggml-common.h's block structs); here only which
// of those types the kernels read in place.
const NAMES: readonly WeightType[] = ['F32', 'F16', 'Q4_0', 'Q5_0', 'Q8_0', 'Q4_K', 'Q5_K', 'Q6_K', 'BF16'];

export const WEIGHT_TYPES = Object.fromEntries(
  NAMES.map((name) => {
    const { blockSize, bytesPerBlock } = blockLayout(GgmlType[name]);
    return [name, { name, ggmlId: GgmlType[name], blockValues: blockSize, blockBytes: bytesPerBlock }];
  }),
) as Record<WeightType, WeightTypeInfo>;

/** Values in a Q8_0 / Q4_0 / Q5_0 block (ggml QK8_0, QK4_0, QK5_0). */
export const QK8_0 = WEIGHT_TYPES.Q8_0.blockValues;
export const QK4_0 = WEIGHT_TYPES.Q4_0.blockValues;
export const QK5_0 = WEIGHT_TYPES.Q5_0.blockValues;

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
