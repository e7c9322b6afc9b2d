/**
 * Checks the tensor infos against the file before any tensor is read: known type, shape that is a
 * whole number of blocks per row, offsets aligned, no two tensors sharing bytes, all data inside
 * the file. Returns the infos with absolute offsets and byte lengths.
 */
import { SparseScopeError } from '../errors.ts';
import type { RawTensorInfo } from './header.ts';
import { blockLayout, elementCount, isKnownType, knownTypeNames, typeName } from './types.ts';

export interface TensorInfo {
  name: string;
  /** ggml type id (see GgmlType) */
  type: number;
  /** ne order, fastest-varying first */
  shape: number[];
  /** absolute byte offset in the file (of a split set: in its part) */
  offset: number;
  byteLength: number;
  /** of a split set: the 0-based part (split.no) whose file holds the bytes; absent for a whole file */
  part?: number;
}

export function validateLayout(label: string, raw: RawTensorInfo[], alignment: number, dataOffset: number, fileSize: number): TensorInfo[] {
  const infos: TensorInfo[] = raw.map((t) => {
    if (!isKnownType(t.type)) {
      throw new SparseScopeError(
        'unsupported-quant',
        `${label}: tensor "${t.name}" has ggml type id ${t.type}, which is unknown; known types: ${knownTypeNames().join(', ')}`,
      );
    }
    const { blockSize, bytesPerBlock } = blockLayout(t.type);
    const ne0 = t.shape.length > 0 ? t.shape[0] : 1;
    if (ne0 % blockSize !== 0) {
      throw new SparseScopeError(
        'wrong-shape',
        `${label}: tensor "${t.name}" is ${typeName(t.type)} with rows of ${ne0} values, not a whole number of ${blockSize}-value blocks`,
      );
    }
    const count = elementCount(t.shape);
    const byteLength = (count / blockSize) * bytesPerBlock;
    if (!Number.isSafeInteger(count) || !Number.isSafeInteger(byteLength) || byteLength > fileSize) {
      throw new SparseScopeError(
        'absurd-size',
        `${label}: tensor "${t.name}" of shape [${t.shape.join(', ')}] (${typeName(t.type)}) would need ${byteLength} bytes, more than the whole ${fileSize}-byte file`,
      );
    }
    if (t.relOffset % alignment !== 0) {
      throw new SparseScopeError(
        'misaligned-tensor',
        `${label}: tensor "${t.name}" starts at data offset ${t.relOffset}, not a multiple of general.alignment = ${alignment}`,
      );
    }
    return { name: t.name, type: t.type, shape: t.shape, offset: dataOffset + t.relOffset, byteLength };
  });

  const byOffset = [...infos].sort((a, b) => a.offset - b.offset || a.byteLength - b.byteLength);
  for (let i = 1; i < byOffset.length; i++) {
    const p = byOffset[i - 1],
      q = byOffset[i];
    if (p.byteLength > 0 && q.offset < p.offset + p.byteLength) {
      throw new SparseScopeError(
        'overlapping-tensors',
        `${label}: tensors "${p.name}" [${p.offset}, ${p.offset + p.byteLength}) and "${q.name}" [${q.offset}, ${q.offset + q.byteLength}) overlap`,
      );
    }
  }
  // Past the end of the file: if each tensor starts where the previous one (padded) ended, the
  // layout is sound and the file was cut short ('truncated'); a tensor that jumps past the end
  // on its own points outside the file ('out-of-bounds').
  let expectedStart = dataOffset;
  for (const t of byOffset) {
    const end = t.offset + t.byteLength;
    if (end > fileSize) {
      if (t.offset <= expectedStart) {
        throw new SparseScopeError(
          'truncated',
          `${label}: tensor "${t.name}" needs bytes up to ${end} but the file ends at ${fileSize}; the file is truncated`,
        );
      }
      throw new SparseScopeError('out-of-bounds', `${label}: tensor "${t.name}" at [${t.offset}, ${end}) lies beyond the end of the ${fileSize}-byte file`);
    }
    expectedStart = Math.max(expectedStart, Math.ceil(end / alignment) * alignment);
  }
  return infos;
}
