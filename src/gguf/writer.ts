/**
 * serializeGgufSpec: a GGUF v3 file as a list of chunks (header, then each tensor's bytes and its
 * padding) so that big tensors are never copied into one buffer. Works in the browser and Node;
 * writeGgufFile (write-file.ts) streams the chunks to disk in Node.
 *
 * Why not @huggingface/gguf's serializeGgufMetadata: it refuses arrays of u8 (it tests the element
 * type id with `!subType`, and UINT8 is 0), reserves the keys "version"/"tensor_count"/"kv_count",
 * writes keys in Object.entries order (integer-like keys first) and writes no tensor infos. The
 * format is small, so the whole header is ours; the value type ids are still the library's.
 * Data layout as ggml's writer: each tensor at a multiple of `alignment`, each padded after.
 */
import { SparseScopeError } from '../errors.ts';
import { quantize } from './codecs/index.ts';
import { isKnownType, knownTypeNames, tensorByteLength, typeName } from './types.ts';
import { ARRAY_ID, SCALAR_IDS, VALUE_TYPE_LIST, type GgufScalarType, type GgufValue, type GgufValueType } from './value-types.ts';

export interface GgufMetadataEntry {
  key: string;
  /** the wire type; counts should be 'u32' (llama.cpp rejects u64 for most of them) */
  type: GgufValueType;
  value: GgufValue;
}

export interface GgufTensorSpec {
  name: string;
  /** ggml type id */
  type: number;
  /** ne order, fastest first */
  shape: number[];
  /** exactly tensorByteLength(type, shape) bytes */
  data: Uint8Array;
}

export interface GgufSpec {
  /** in file order; a record keeps insertion order ({ key: { type, value } }) */
  metadata: GgufMetadataEntry[] | Record<string, { type: GgufValueType; value: GgufValue }>;
  tensors: GgufTensorSpec[];
  /** default 32; written as general.alignment when not 32 and not given in metadata */
  alignment?: number;
}

const RANGES: Partial<Record<GgufScalarType, [number, number]>> = {
  u8: [0, 0xff],
  i8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
};

function bad(msg: string): SparseScopeError {
  return new SparseScopeError('bad-argument', msg);
}

/** Validates one scalar against its wire type; 64-bit integers come back as bigint. */
function wireScalar(key: string, t: GgufScalarType, v: GgufValue): string | number | bigint | boolean {
  const where = `metadata "${key}" (${t})`;
  switch (t) {
    case 'string':
      if (typeof v !== 'string') throw bad(`${where}: ${String(v)} is not a string`);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw bad(`${where}: ${String(v)} is not a boolean`);
      return v;
    case 'f32':
    case 'f64':
      if (typeof v !== 'number') throw bad(`${where}: ${String(v)} is not a number`);
      return v;
    case 'u64':
    case 'i64': {
      if (typeof v !== 'bigint' && !(typeof v === 'number' && Number.isSafeInteger(v))) throw bad(`${where}: ${String(v)} is not an integer`);
      const b = BigInt(v);
      const [lo, hi] = t === 'u64' ? [0n, 2n ** 64n - 1n] : [-(2n ** 63n), 2n ** 63n - 1n];
      if (b < lo || b > hi) throw bad(`${where}: ${b} is out of range`);
      return b;
    }
    default: {
      const [lo, hi] = RANGES[t]!;
      const n = typeof v === 'bigint' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < lo || n > hi) throw bad(`${where}: ${String(v)} is not an integer in [${lo}, ${hi}]`);
      return n;
    }
  }
}

function entries(spec: GgufSpec): GgufMetadataEntry[] {
  const list = Array.isArray(spec.metadata) ? spec.metadata : Object.entries(spec.metadata).map(([key, e]) => ({ key, type: e.type, value: e.value }));
  const a = spec.alignment ?? 32;
  if (!Number.isInteger(a) || a <= 0 || (a & (a - 1)) !== 0) throw bad(`alignment ${a} must be a power of two`);
  const given = list.find((e) => e.key === 'general.alignment');
  if (given && (given.type !== 'u32' || given.value !== a)) {
    throw bad(`general.alignment in metadata (${String(given.value)}, ${given.type}) must be a u32 equal to the alignment option (${a})`);
  }
  return !given && a !== 32 ? [...list, { key: 'general.alignment', type: 'u32', value: a }] : list;
}

/** Growable little-endian byte builder for the header. */
class Bytes {
  private buf = new Uint8Array(4096);
  private view = new DataView(this.buf.buffer);
  length = 0;
  private room(n: number): number {
    if (this.length + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const o = this.length;
    this.length += n;
    return o;
  }
  // room() may replace buf/view, so take the offset before touching this.view
  u8(v: number) {
    const o = this.room(1);
    this.view.setUint8(o, v);
  }
  i8(v: number) {
    const o = this.room(1);
    this.view.setInt8(o, v);
  }
  u16(v: number) {
    const o = this.room(2);
    this.view.setUint16(o, v, true);
  }
  i16(v: number) {
    const o = this.room(2);
    this.view.setInt16(o, v, true);
  }
  u32(v: number) {
    const o = this.room(4);
    this.view.setUint32(o, v, true);
  }
  i32(v: number) {
    const o = this.room(4);
    this.view.setInt32(o, v, true);
  }
  f32(v: number) {
    const o = this.room(4);
    this.view.setFloat32(o, v, true);
  }
  f64(v: number) {
    const o = this.room(8);
    this.view.setFloat64(o, v, true);
  }
  u64(v: bigint | number) {
    const o = this.room(8);
    this.view.setBigUint64(o, BigInt(v), true);
  }
  i64(v: bigint) {
    const o = this.room(8);
    this.view.setBigInt64(o, v, true);
  }
  raw(b: Uint8Array) {
    const o = this.room(b.length);
    this.buf.set(b, o);
  }
  str(s: string) {
    const b = enc.encode(s);
    this.u64(b.length);
    this.raw(b);
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

const enc = new TextEncoder();

function writeScalar(out: Bytes, key: string, t: GgufScalarType, v: GgufValue): void {
  const w = wireScalar(key, t, v);
  switch (t) {
    case 'string':
      return out.str(w as string);
    case 'bool':
      return out.u8(w ? 1 : 0);
    case 'u8':
      return out.u8(w as number);
    case 'i8':
      return out.i8(w as number);
    case 'u16':
      return out.u16(w as number);
    case 'i16':
      return out.i16(w as number);
    case 'u32':
      return out.u32(w as number);
    case 'i32':
      return out.i32(w as number);
    case 'f32':
      return out.f32(w as number);
    case 'f64':
      return out.f64(w as number);
    case 'u64':
      return out.u64(w as bigint);
    case 'i64':
      return out.i64(w as bigint);
  }
}

/** magic, version 3, tensor count, key count, then each key/value. */
function writeMetadata(out: Bytes, list: GgufMetadataEntry[], tensorCount: number): void {
  out.raw(new Uint8Array([0x47, 0x47, 0x55, 0x46]));
  out.u32(3);
  out.u64(tensorCount);
  out.u64(list.length);
  const seen = new Set<string>();
  for (const { key, type, value } of list) {
    if (seen.has(key)) throw bad(`metadata key "${key}" given twice`);
    seen.add(key);
    out.str(key);
    if (type.endsWith('[]')) {
      const et = type.slice(0, -2) as GgufScalarType;
      if (!(et in SCALAR_IDS)) throw bad(`metadata "${key}": unknown type "${type}"; supported: ${VALUE_TYPE_LIST}`);
      if (!Array.isArray(value)) throw bad(`metadata "${key}" (${type}) needs an array`);
      out.u32(ARRAY_ID);
      out.u32(SCALAR_IDS[et]);
      out.u64(value.length);
      for (const v of value) writeScalar(out, key, et, v);
    } else {
      if (!(type in SCALAR_IDS)) throw bad(`metadata "${key}": unknown type "${type}"; supported: ${VALUE_TYPE_LIST}`);
      out.u32(SCALAR_IDS[type as GgufScalarType]);
      writeScalar(out, key, type as GgufScalarType, value);
    }
  }
}

/** name, n_dims, ne[], type, data offset (relative, aligned) per tensor; returns the data section's size. */
function writeTensorInfos(out: Bytes, tensors: (GgufTensorInfoSpec & { data?: Uint8Array })[], alignment: number): number {
  let rel = 0;
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name)) throw bad(`tensor "${t.name}" given twice`);
    names.add(t.name);
    const nameLen = enc.encode(t.name).length;
    if (nameLen >= 64) throw bad(`tensor name "${t.name}" is ${nameLen} bytes; ggml allows at most 63`);
    if (!isKnownType(t.type))
      throw new SparseScopeError('unsupported-quant', `tensor "${t.name}": unknown ggml type id ${t.type}; known: ${knownTypeNames().join(', ')}`);
    if (t.shape.length > 4 || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0))
      throw bad(`tensor "${t.name}": shape [${t.shape.join(', ')}] must be 0-4 non-negative integers`);
    const len = tensorByteLength(t.type, t.shape);
    if (t.data !== undefined && t.data.length !== len) {
      throw bad(`tensor "${t.name}" (${typeName(t.type)} [${t.shape.join(', ')}]) needs ${len} bytes of data, got ${t.data.length}`);
    }
    out.str(t.name);
    out.u32(t.shape.length);
    for (const d of t.shape) out.u64(d);
    out.u32(t.type);
    out.u64(rel);
    rel += Math.ceil(len / alignment) * alignment;
  }
  return rel;
}

/** A tensor's info without its bytes (for a header-only file: see serializeGgufHeader). */
export interface GgufTensorInfoSpec {
  name: string;
  type: number;
  shape: number[];
}

/**
 * Only the header (padded to the alignment) of the file `spec` describes, and that file's full size:
 * write the header, then extend the file to `fileSize` (ftruncate) for a sparse file whose data are
 * holes, e.g. a 10 GB real-shaped model for tests that must never read tensor data.
 */
export function serializeGgufHeader(spec: { metadata: GgufSpec['metadata']; tensors: GgufTensorInfoSpec[]; alignment?: number }): {
  header: Uint8Array;
  fileSize: number;
} {
  const alignment = spec.alignment ?? 32;
  const head = new Bytes();
  writeMetadata(head, entries({ ...spec, tensors: [] }), spec.tensors.length);
  const dataBytes = writeTensorInfos(head, spec.tensors, alignment);
  const header = new Uint8Array(Math.ceil(head.length / alignment) * alignment);
  header.set(head.bytes());
  return { header, fileSize: header.length + dataBytes };
}

/** The file as chunks: [header incl. padding, tensor 0 data, padding, tensor 1 data, padding, ...]. */
export function serializeGguf(spec: GgufSpec): Uint8Array[] {
  const alignment = spec.alignment ?? 32;
  const head = new Bytes();
  writeMetadata(head, entries(spec), spec.tensors.length);
  writeTensorInfos(head, spec.tensors, alignment);
  const header = new Uint8Array(Math.ceil(head.length / alignment) * alignment);
  header.set(head.bytes());
  const chunks: Uint8Array[] = [header];
  for (const t of spec.tensors) {
    chunks.push(t.data);
    const pad = (alignment - (t.data.length % alignment)) % alignment;
    if (pad > 0) chunks.push(new Uint8Array(pad));
  }
  return chunks;
}

/**
 * A tensor spec from f32 values quantized with ggml's reference quantizer for `type`
 * (e.g. a fixture's token_embd stored as Q4_K). `values` are in ne order, fastest first.
 */
export function quantizedTensor(name: string, type: number, shape: number[], values: Float32Array): GgufTensorSpec {
  return { name, type, shape, data: quantize(type, values) };
}

/**
 * A spec as the `parts` files of a split set, as llama.cpp's gguf-split --split-max-tensors writes
 * it: tensors in order, ceil(n / parts) per part; part 1 keeps all metadata, every part gets
 * split.no (u16, 0-based), split.count (u16) and split.tensors.count (i32).
 * Returns each part's spec (serialize each with serializeGguf).
 */
export function splitGgufSpec(spec: GgufSpec, parts: number): GgufSpec[] {
  const n = spec.tensors.length;
  if (!Number.isInteger(parts) || parts < 1 || parts > Math.min(n, 0xffff)) throw bad(`a ${n}-tensor file cannot be split into ${parts} parts`);
  const list = entries(spec).filter((e) => !e.key.startsWith('split.'));
  const per = Math.ceil(n / parts);
  return Array.from({ length: parts }, (_, i) => {
    const keys: GgufMetadataEntry[] = [
      { key: 'split.no', type: 'u16', value: i },
      { key: 'split.count', type: 'u16', value: parts },
      { key: 'split.tensors.count', type: 'i32', value: n },
    ];
    const tensors = spec.tensors.slice(i * per, (i + 1) * per);
    if (tensors.length === 0) throw bad(`a ${n}-tensor file split ${per} tensors a part leaves part ${i + 1} of ${parts} empty`);
    // part 1: the file's metadata then the split keys (gguf-split's order); the others: split keys only
    const meta = i === 0 ? [...list, ...keys] : keys;
    return { metadata: meta, tensors, alignment: spec.alignment };
  });
}

/** Total bytes of serializeGguf's chunks. */
export function chunksByteLength(chunks: Uint8Array[]): number {
  return chunks.reduce((s, c) => s + c.length, 0);
}
