/**
 * GGUF metadata value types: the wire ids (GGUFValueType from @huggingface/gguf: UINT8 = 0 ... FLOAT64 = 12)
 * and our short names for them ('u32', 'string', 'f32[]', ...), used by both reader and writer.
 */
import { GGUFValueType } from '@huggingface/gguf';

export type GgufScalarType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64' | 'f32' | 'f64' | 'bool' | 'string';
/** A scalar type, or an array of one (`'string[]'`). Nested arrays are not supported (llama.cpp writes none). */
export type GgufValueType = GgufScalarType | `${GgufScalarType}[]`;
/** Metadata values as plain JS: u64/i64 as bigint (exact), other numbers as number. */
export type GgufValue = number | bigint | string | boolean | GgufValue[];

export const SCALAR_IDS: Record<GgufScalarType, GGUFValueType> = {
  u8: GGUFValueType.UINT8,
  i8: GGUFValueType.INT8,
  u16: GGUFValueType.UINT16,
  i16: GGUFValueType.INT16,
  u32: GGUFValueType.UINT32,
  i32: GGUFValueType.INT32,
  u64: GGUFValueType.UINT64,
  i64: GGUFValueType.INT64,
  f32: GGUFValueType.FLOAT32,
  f64: GGUFValueType.FLOAT64,
  bool: GGUFValueType.BOOL,
  string: GGUFValueType.STRING,
};

export const ARRAY_ID = GGUFValueType.ARRAY;

const NAME_BY_ID = new Map<number, GgufScalarType>((Object.keys(SCALAR_IDS) as GgufScalarType[]).map((k) => [SCALAR_IDS[k], k]));

export function scalarTypeName(id: number): GgufScalarType | undefined {
  return NAME_BY_ID.get(id);
}

/** Fixed byte size of a scalar type on the wire; strings have none (length-prefixed). */
export const SCALAR_SIZE: Record<Exclude<GgufScalarType, 'string'>, number> = {
  u8: 1,
  i8: 1,
  bool: 1,
  u16: 2,
  i16: 2,
  u32: 4,
  i32: 4,
  f32: 4,
  u64: 8,
  i64: 8,
  f64: 8,
};

export const VALUE_TYPE_LIST = 'u8, i8, u16, i16, u32, i32, u64, i64, f32, f64, bool, string and arrays of these';
