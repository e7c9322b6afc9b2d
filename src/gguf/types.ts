/**
 * ggml tensor types, numbered exactly as ggml's `enum ggml_type` (ggml.h), with the block layout of
 * each type: how many values one block holds and how many bytes it takes (ggml's type_traits).
 * Removed ids (4, 5, 31-33, 36-38) are absent on purpose: a file that uses them is invalid.
 */
import { SparseScopeError } from '../errors.ts';

export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  MXFP4: 39,
} as const;
export type GgmlTypeName = keyof typeof GgmlType;
export type GgmlTypeId = (typeof GgmlType)[GgmlTypeName];

/** Values per block and bytes per block. K-quants use super-blocks of QK_K = 256 values. */
export interface BlockLayout {
  readonly blockSize: number;
  readonly bytesPerBlock: number;
}

export const QK_K = 256;

// Sizes from ggml-common.h's block structs (e.g. block_q4_K = d, dmin, scales[12], qs[128] = 144 B).
const LAYOUTS: Record<GgmlTypeName, BlockLayout> = {
  F32: { blockSize: 1, bytesPerBlock: 4 },
  F16: { blockSize: 1, bytesPerBlock: 2 },
  Q4_0: { blockSize: 32, bytesPerBlock: 18 },
  Q4_1: { blockSize: 32, bytesPerBlock: 20 },
  Q5_0: { blockSize: 32, bytesPerBlock: 22 },
  Q5_1: { blockSize: 32, bytesPerBlock: 24 },
  Q8_0: { blockSize: 32, bytesPerBlock: 34 },
  Q8_1: { blockSize: 32, bytesPerBlock: 36 },
  Q2_K: { blockSize: QK_K, bytesPerBlock: 84 },
  Q3_K: { blockSize: QK_K, bytesPerBlock: 110 },
  Q4_K: { blockSize: QK_K, bytesPerBlock: 144 },
  Q5_K: { blockSize: QK_K, bytesPerBlock: 176 },
  Q6_K: { blockSize: QK_K, bytesPerBlock: 210 },
  Q8_K: { blockSize: QK_K, bytesPerBlock: 292 },
  IQ2_XXS: { blockSize: QK_K, bytesPerBlock: 66 },
  IQ2_XS: { blockSize: QK_K, bytesPerBlock: 74 },
  IQ3_XXS: { blockSize: QK_K, bytesPerBlock: 98 },
  IQ1_S: { blockSize: QK_K, bytesPerBlock: 50 },
  IQ4_NL: { blockSize: 32, bytesPerBlock: 18 },
  IQ3_S: { blockSize: QK_K, bytesPerBlock: 110 },
  IQ2_S: { blockSize: QK_K, bytesPerBlock: 82 },
  IQ4_XS: { blockSize: QK_K, bytesPerBlock: 136 },
  I8: { blockSize: 1, bytesPerBlock: 1 },
  I16: { blockSize: 1, bytesPerBlock: 2 },
  I32: { blockSize: 1, bytesPerBlock: 4 },
  I64: { blockSize: 1, bytesPerBlock: 8 },
  F64: { blockSize: 1, bytesPerBlock: 8 },
  IQ1_M: { blockSize: QK_K, bytesPerBlock: 56 },
  BF16: { blockSize: 1, bytesPerBlock: 2 },
  TQ1_0: { blockSize: QK_K, bytesPerBlock: 54 },
  TQ2_0: { blockSize: QK_K, bytesPerBlock: 66 },
  MXFP4: { blockSize: 32, bytesPerBlock: 17 },
};

const NAME_BY_ID = new Map<number, GgmlTypeName>((Object.keys(GgmlType) as GgmlTypeName[]).map((n) => [GgmlType[n], n]));

export function isKnownType(id: number): id is GgmlTypeId {
  return NAME_BY_ID.has(id);
}

/** "Q4_K" for 12; "type 99 (unknown)" for ids ggml does not define. */
export function typeName(id: number): string {
  return NAME_BY_ID.get(id) ?? `type ${id} (unknown)`;
}

export function knownTypeNames(): string[] {
  return [...NAME_BY_ID.values()];
}

export function blockLayout(id: number): BlockLayout {
  const name = NAME_BY_ID.get(id);
  if (name === undefined) {
    throw new SparseScopeError(
      'unsupported-quant',
      `ggml tensor type id ${id} is unknown; known types: ${knownTypeNames()
        .map((n) => `${n}=${GgmlType[n as GgmlTypeName]}`)
        .join(', ')}`,
    );
  }
  return LAYOUTS[name];
}

/** Number of values in a tensor of shape `ne` (fastest first). A 0-d shape holds one value. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes of one row (ne[0] values); ne[0] must be a whole number of blocks, as ggml requires. */
export function rowByteLength(type: number, ne0: number): number {
  const { blockSize, bytesPerBlock } = blockLayout(type);
  if (ne0 % blockSize !== 0) {
    throw new SparseScopeError('wrong-shape', `a ${typeName(type)} row of ${ne0} values is not a whole number of ${blockSize}-value blocks`);
  }
  return (ne0 / blockSize) * bytesPerBlock;
}

/** Bytes of a whole tensor: rows × row bytes. Exact while below 2^53. */
export function tensorByteLength(type: number, shape: readonly number[]): number {
  const ne0 = shape.length > 0 ? shape[0] : 1;
  return rowByteLength(type, ne0) * elementCount(shape.slice(1));
}
