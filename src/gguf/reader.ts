/**
 * openGguf: the header is parsed and validated up front; tensor bytes are read lazily by offset.
 *
 *   const g = await openGguf({ kind: 'path', path: 'model.gguf' });   // Node
 *   const g = await openGguf({ kind: 'blob', blob: file });           // browser File/Blob
 *   const g = await openGguf({ kind: 'url', url, fetch });            // HTTP Range requests
 *   const g = await openGguf({ kind: 'blobs', blobs: files });        // every part of a split set
 * A split set (`x-00001-of-00003.gguf` …) opens as one GgufFile from part 1's path or URL (the other
 * parts' names derived from it) or from all parts' Blobs; metadata is part 1's.
 *   g.metadata['deepseek2.block_count']; await g.readF32('token_embd.weight'); await g.close();
 */
import { SparseScopeError } from '../errors.ts';
import { blobSource, urlSource, type ByteSource } from './byte-source.ts';
import { dequantize } from './codecs/index.ts';
import { parseHeader, type ParsedHeader } from './header.ts';
import { SPLIT_NO, SPLIT_TENSORS_COUNT, splitKeys, splitPartNames } from './split.ts';
import { validateLayout, type TensorInfo } from './layout.ts';
import { blockLayout, elementCount, rowByteLength, typeName } from './types.ts';
import type { GgufValue, GgufValueType } from './value-types.ts';

export type { TensorInfo } from './layout.ts';

export type GgufSource =
  | { kind: 'path'; path: string }
  | { kind: 'blob'; blob: Blob; name?: string }
  | { kind: 'url'; url: string; fetch?: typeof fetch }
  | { kind: 'bytes'; source: ByteSource }
  /** every part of a split set (any order: they are sorted by split.no), or one whole file */
  | { kind: 'blobs'; blobs: Blob[]; name?: string };

/** One file of the set (a whole GGUF has one). */
export interface GgufPart {
  label: string;
  size: number;
  tensorCount: number;
}

export interface GgufFile {
  version: number;
  /** plain values; u64/i64 as bigint (of a split set: part 1's) */
  metadata: Record<string, GgufValue>;
  /** the wire type of each key ('u32', 'f32', 'string[]', ...) */
  metadataTypes: Record<string, GgufValueType>;
  /** every tensor of every part; `part` says which file holds a split set's tensor */
  tensors: TensorInfo[];
  alignment: number;
  /** absolute offset of the tensor data section (of part 1) */
  dataOffset: number;
  /** bytes of all parts together */
  fileSize: number;
  /** the files, in split.no order; one entry for a whole GGUF */
  parts: GgufPart[];
  tensor(name: string): TensorInfo | undefined;
  /** raw bytes of a tensor, or of [start, start + length) within it */
  readBytes(info: TensorInfo, start?: number, length?: number): Promise<Uint8Array>;
  /** the whole tensor dequantized to f32 (ne order, fastest first) */
  readF32(name: string): Promise<Float32Array>;
  /** rows [first, first + count) of a tensor (a row = ne[0] values), dequantized */
  readRowsF32(name: string, first: number, count: number): Promise<Float32Array>;
  close(): Promise<void>;
}

type SingleSource = Exclude<GgufSource, { kind: 'blobs' }>;

async function toByteSource(source: SingleSource): Promise<ByteSource> {
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

interface OpenedPart {
  src: ByteSource;
  h: ParsedHeader;
  tensors: TensorInfo[];
  split: ReturnType<typeof splitKeys>;
}

async function openPart(src: ByteSource): Promise<OpenedPart> {
  const h = await parseHeader(src);
  const tensors = validateLayout(src.label, h.tensors, h.alignment, h.dataOffset, src.size);
  return { src, h, tensors, split: splitKeys(src.label, h.metadata) };
}

/** The source of part i (0-based) of a set whose part 1 was opened from `first`. */
function siblingSource(first: SingleSource, names: string[], i: number): SingleSource {
  switch (first.kind) {
    case 'path':
      return { kind: 'path', path: names[i] };
    case 'url':
      return { kind: 'url', url: names[i], fetch: first.fetch };
    default:
      throw new SparseScopeError(
        'split-part',
        `${first.kind === 'blob' ? (first.name ?? 'the file') : first.source.label} is part 1 of a ${names.length}-part split GGUF; open all ${names.length} parts together (drop or pick them all)`,
      );
  }
}

function labelOf(source: SingleSource): string {
  return source.kind === 'path'
    ? source.path
    : source.kind === 'url'
      ? source.url
      : source.kind === 'blob'
        ? (source.name ?? (source.blob as File).name ?? 'blob')
        : source.source.label;
}

export async function openGguf(source: GgufSource): Promise<GgufFile> {
  const opened: ByteSource[] = [];
  try {
    const parts = source.kind === 'blobs' ? await openBlobSet(source.blobs, opened) : await openFromFirst(source, opened);
    return assemble(parts);
  } catch (e) {
    await Promise.all(opened.map((s) => s.close()));
    throw e;
  }
}

/** Part 1 by path/URL/Blob; the other parts by the names derived from part 1's (as llama.cpp does). */
async function openFromFirst(source: SingleSource, opened: ByteSource[]): Promise<OpenedPart[]> {
  const firstSrc = await toByteSource(source);
  opened.push(firstSrc);
  const first = await openPart(firstSrc);
  if (!first.split || first.split.count === 1) return [first];
  if (first.split.no !== 0) {
    throw new SparseScopeError(
      'split-part',
      `${firstSrc.label} is part ${first.split.no + 1} of a ${first.split.count}-part split GGUF (split.no = ${first.split.no}); open part 1 (…-00001-of-${String(first.split.count).padStart(5, '0')}.gguf)`,
    );
  }
  const names = splitPartNames(labelOf(source), first.split.count);
  const parts = [first];
  for (let i = 1; i < names.length; i++) {
    const sib = siblingSource(source, names, i);
    let src: ByteSource;
    try {
      src = await toByteSource(sib);
    } catch (e) {
      throw new SparseScopeError('split-part', `part ${i + 1} of ${names.length} (${names[i]}) is missing or unreadable: ${(e as Error).message}`);
    }
    opened.push(src);
    parts.push(await openPart(src));
  }
  checkSet(parts);
  return parts;
}

/** Dropped/picked files: sorted by their split.no, then checked as a set. */
async function openBlobSet(blobs: Blob[], opened: ByteSource[]): Promise<OpenedPart[]> {
  if (blobs.length === 0) throw new SparseScopeError('bad-argument', 'no files given');
  const parts: OpenedPart[] = [];
  for (const b of blobs) {
    const src = blobSource(b);
    opened.push(src);
    parts.push(await openPart(src));
  }
  if (parts.length === 1) {
    const only = parts[0];
    if (only.split && only.split.count > 1) siblingSource({ kind: 'blob', blob: blobs[0], name: only.src.label }, new Array<string>(only.split.count), 0);
    return parts;
  }
  const count = parts[0].split?.count;
  for (const p of parts) {
    if (!p.split || p.split.count === 1) {
      throw new SparseScopeError('split-part', `${p.src.label} is a whole GGUF, not a part of a split set; open it on its own`);
    }
    if (p.split.count !== count) {
      throw new SparseScopeError(
        'split-part',
        `${p.src.label} says split.count = ${p.split.count} but ${parts[0].src.label} says ${count}: these files are not one split set`,
      );
    }
  }
  const byNo = new Map<number, OpenedPart>();
  for (const p of parts) {
    const prev = byNo.get(p.split!.no);
    if (prev)
      throw new SparseScopeError('split-part', `${prev.src.label} and ${p.src.label} are both part ${p.split!.no + 1} of ${count} (split.no = ${p.split!.no})`);
    byNo.set(p.split!.no, p);
  }
  const missing = Array.from({ length: count! }, (_, i) => i).filter((i) => !byNo.has(i));
  if (missing.length > 0) {
    throw new SparseScopeError(
      'split-part',
      `part${missing.length > 1 ? 's' : ''} ${missing.map((i) => i + 1).join(', ')} of ${count} ${missing.length > 1 ? 'are' : 'is'} missing; open all ${count} parts together`,
    );
  }
  const sorted = [...byNo.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
  checkSet(sorted);
  return sorted;
}

/** llama-model-loader's rules: split.no = index, same split.count, unique names, total = split.tensors.count. */
function checkSet(parts: OpenedPart[]): void {
  const first = parts[0];
  const count = first.split!.count;
  if (parts.length !== count) throw new SparseScopeError('split-part', `${first.src.label}: split.count = ${count} but ${parts.length} parts were given`);
  const names = new Map<string, string>();
  let total = 0;
  parts.forEach((p, i) => {
    if (!p.split) throw new SparseScopeError('split-part', `${p.src.label}: part ${i + 1} of ${count} has no ${SPLIT_NO} key; it is not a part of this set`);
    if (p.split.no !== i) throw new SparseScopeError('split-part', `${p.src.label}: ${SPLIT_NO} = ${p.split.no}, expected ${i} (part ${i + 1} of ${count})`);
    if (p.split.count !== count) throw new SparseScopeError('split-part', `${p.src.label}: split.count = ${p.split.count}, but part 1 says ${count}`);
    for (const t of p.tensors) {
      const other = names.get(t.name);
      if (other !== undefined)
        throw new SparseScopeError('split-part', `tensor "${t.name}" is in both ${other} and ${p.src.label}; a split set holds each tensor once`);
      names.set(t.name, p.src.label);
    }
    total += p.tensors.length;
  });
  const expected = first.split!.tensors;
  if (expected === undefined) throw new SparseScopeError('split-part', `${first.src.label}: part 1 of a split set has no ${SPLIT_TENSORS_COUNT} key`);
  if (expected !== total) {
    throw new SparseScopeError(
      'split-part',
      `${first.src.label}: ${SPLIT_TENSORS_COUNT} = ${expected} but the ${count} parts hold ${total} tensors (${parts.map((p) => p.tensors.length).join(' + ')})`,
    );
  }
}

function assemble(parts: OpenedPart[]): GgufFile {
  const first = parts[0];
  const split = parts.length > 1;
  const tensors = parts.flatMap((p, i) => (split ? p.tensors.map((t) => ({ ...t, part: i })) : p.tensors));
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const label = first.src.label;

  const must = (name: string): TensorInfo => {
    const t = byName.get(name);
    if (t === undefined) throw new SparseScopeError('missing-tensor', `${label}: no tensor named "${name}"`);
    return t;
  };

  const readBytes = async (info: TensorInfo, start = 0, length = info.byteLength - start): Promise<Uint8Array> => {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 0 || start + length > info.byteLength) {
      throw new SparseScopeError('out-of-bounds', `${label}: bytes [${start}, ${start + length}) are outside tensor "${info.name}" (${info.byteLength} bytes)`);
    }
    const part = parts[info.part ?? 0];
    if (part === undefined)
      throw new SparseScopeError('out-of-bounds', `${label}: tensor "${info.name}" names part ${info.part}, which this file does not have`);
    return part.src.read(info.offset + start, length);
  };

  return {
    version: first.h.version,
    metadata: first.h.metadata,
    metadataTypes: first.h.metadataTypes,
    tensors,
    alignment: first.h.alignment,
    dataOffset: first.h.dataOffset,
    fileSize: parts.reduce((a, p) => a + p.src.size, 0),
    parts: parts.map((p) => ({ label: p.src.label, size: p.src.size, tensorCount: p.tensors.length })),
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
        throw new SparseScopeError(
          'out-of-bounds',
          `${label}: rows [${first}, ${first + count}) are outside tensor "${name}" (${rows} rows of ${ne0} ${typeName(t.type)} values)`,
        );
      }
      blockLayout(t.type);
      const rb = rowByteLength(t.type, ne0);
      return dequantize(t.type, await readBytes(t, first * rb, count * rb), count * ne0);
    },
    close: async () => {
      await Promise.all(parts.map((p) => p.src.close()));
    },
  };
}
