/**
 * openGguf: the header is parsed and validated up front; tensor bytes are read lazily by offset.
 *
 *   const g = await openGguf({ kind: 'path', path: 'model.gguf' });   // Node
 *   const g = await openGguf({ kind: 'blob', blob: file });           // browser File/Blob
 *   const g = await openGguf({ kind: 'url', url, fetch });            // HTTP Range requests
 *   g.metadata['deepseek2.block_count']; await g.readF32('token_embd.weight'); await g.close();
 */
import { SparseScopeError } from '../errors.ts';
import { blobSource, urlSource, type ByteSource } from './byte-source.ts';
import { dequantize } from './codecs/index.ts';
import { parseHeader } from './header.ts';
import { validateLayout, type TensorInfo } from './layout.ts';
import { blockLayout, elementCount, rowByteLength, typeName } from './types.ts';
import type { GgufValue, GgufValueType } from './value-types.ts';

export type { TensorInfo } from './layout.ts';

export type GgufSource =
  | { kind: 'path'; path: string }
  | { kind: 'blob'; blob: Blob; name?: string }
  | { kind: 'url'; url: string; fetch?: typeof fetch }
  | { kind: 'bytes'; source: ByteSource };

export interface GgufFile {
  version: number;
  /** plain values; u64/i64 as bigint */
  metadata: Record<string, GgufValue>;
  /** the wire type of each key ('u32', 'f32', 'string[]', ...) */
  metadataTypes: Record<string, GgufValueType>;
  tensors: TensorInfo[];
  alignment: number;
  /** absolute offset of the tensor data section */
  dataOffset: number;
  fileSize: number;
  tensor(name: string): TensorInfo | undefined;
  /** raw bytes of a tensor, or of [start, start + length) within it */
  readBytes(info: TensorInfo, start?: number, length?: number): Promise<Uint8Array>;
  /** the whole tensor dequantized to f32 (ne order, fastest first) */
  readF32(name: string): Promise<Float32Array>;
  /** rows [first, first + count) of a tensor (a row = ne[0] values), dequantized */
  readRowsF32(name: string, first: number, count: number): Promise<Float32Array>;
  close(): Promise<void>;
}

async function toByteSource(source: GgufSource): Promise<ByteSource> {
  switch (source.kind) {
    case 'path': {
      if (typeof process === 'undefined' || !process.versions?.node) {
        throw new SparseScopeError('bad-argument', `a path source (${source.path}) needs Node; in the browser open the File with { kind: 'blob' }`);
      }
      // dynamic, so that the browser bundle never loads node:fs
      const { pathSource } = await import('./path-source.ts');
      return pathSource(source.path);
    }
    case 'blob':
      return blobSource(source.blob, source.name);
    case 'url':
      return urlSource(source.url, source.fetch);
    case 'bytes':
      return source.source;
  }
}

export async function openGguf(source: GgufSource): Promise<GgufFile> {
  const src = await toByteSource(source);
  try {
    return await openFromSource(src);
  } catch (e) {
    await src.close();
    throw e;
  }
}

async function openFromSource(src: ByteSource): Promise<GgufFile> {
  const h = await parseHeader(src);
  const tensors = validateLayout(src.label, h.tensors, h.alignment, h.dataOffset, src.size);
  const byName = new Map(tensors.map((t) => [t.name, t]));

  const must = (name: string): TensorInfo => {
    const t = byName.get(name);
    if (t === undefined) throw new SparseScopeError('missing-tensor', `${src.label}: no tensor named "${name}"`);
    return t;
  };

  const readBytes = async (info: TensorInfo, start = 0, length = info.byteLength - start): Promise<Uint8Array> => {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 0 || start + length > info.byteLength) {
      throw new SparseScopeError('out-of-bounds', `${src.label}: bytes [${start}, ${start + length}) are outside tensor "${info.name}" (${info.byteLength} bytes)`);
    }
    return src.read(info.offset + start, length);
  };

  return {
    version: h.version,
    metadata: h.metadata,
    metadataTypes: h.metadataTypes,
    tensors,
    alignment: h.alignment,
    dataOffset: h.dataOffset,
    fileSize: src.size,
    tensor: (name) => byName.get(name),
    readBytes,
    async readF32(name) {
      const t = must(name);
      return dequantize(t.type, await readBytes(t), elementCount(t.shape));
    },
    async readRowsF32(name, first, count) {
      const t = must(name);
      const ne0 = t.shape.length > 0 ? t.shape[0] : 1;
      const rows = elementCount(t.shape) / Math.max(ne0, 1);
      if (!Number.isSafeInteger(first) || !Number.isSafeInteger(count) || first < 0 || count < 0 || first + count > rows) {
        throw new SparseScopeError('out-of-bounds', `${src.label}: rows [${first}, ${first + count}) are outside tensor "${name}" (${rows} rows of ${ne0} ${typeName(t.type)} values)`);
      }
      blockLayout(t.type);
      const rb = rowByteLength(t.type, ne0);
      return dequantize(t.type, await readBytes(t, first * rb, count * rb), count * ne0);
    },
    close: () => src.close(),
  };
}
