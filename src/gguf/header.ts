/**
 * Parses a GGUF header (v2/v3, little-endian): magic, version, counts, metadata key/values, tensor
 * infos, then the aligned start of tensor data.
 *
 * Why not @huggingface/gguf's gguf() for this: it reads through its own 2 MB-chunk HTTP/file views
 * (a Blob or our FileHandle would need a fake URL and fetch shim), throws plain Errors (no codes),
 * retries a truncated value up to 30 fetches instead of reporting truncation, caps the header at
 * 50 MB, and checks no counts against the bytes actually left. We keep its GGUFValueType ids and
 * use its serializeGgufMetadata in the writer.
 *
 * Layout (all little-endian):  "GGUF" u32 version  u64 n_tensors  u64 n_kv
 *   n_kv × { string key, u32 type, value }         string = u64 length + UTF-8 bytes
 *   n_tensors × { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
 *   padding to general.alignment, then tensor data (offsets are relative to that point).
 */
import { SparseScopeError } from '../errors.ts';
import type { ByteSource } from './byte-source.ts';
import { HeaderCursor } from './header-cursor.ts';
import { ARRAY_ID, SCALAR_SIZE, VALUE_TYPE_LIST, scalarTypeName, type GgufScalarType, type GgufValue, type GgufValueType } from './value-types.ts';

/** Limits far above any real model (DeepSeek-V3: ~1.8k tensors, ~50 keys, 129k-token vocab). */
export const LIMITS = {
  kvCount: 1 << 20,
  tensorCount: 1 << 24,
  stringBytes: 1 << 26,
  arrayLength: 1 << 26,
  dims: 4, // GGML_MAX_DIMS
  dim: 2 ** 53 - 1,
} as const;

export interface RawTensorInfo {
  name: string;
  type: number;
  shape: number[];
  /** relative to the start of the data section */
  relOffset: number;
}

export interface ParsedHeader {
  version: number;
  metadata: Record<string, GgufValue>;
  metadataTypes: Record<string, GgufValueType>;
  tensors: RawTensorInfo[];
  alignment: number;
  /** absolute offset of the tensor data section */
  dataOffset: number;
}

const MAGIC = [0x47, 0x47, 0x55, 0x46]; // "GGUF"
const utf8 = new TextDecoder('utf-8', { fatal: false });

function describeBytes(b: Uint8Array): string {
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
  const ascii = Array.from(b, (x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.')).join('');
  return `${hex} ("${ascii}")`;
}

/** Synchronous scalar read; the caller made SCALAR_SIZE[t] bytes available. */
function scalarNow(c: HeaderCursor, t: Exclude<GgufScalarType, 'string'>): GgufValue {
  switch (t) {
    case 'u8':
      return c.u8();
    case 'i8':
      return c.i8();
    case 'u16':
      return c.u16();
    case 'i16':
      return c.i16();
    case 'u32':
      return c.u32();
    case 'i32':
      return c.i32();
    case 'f32':
      return c.f32();
    case 'f64':
      return c.f64();
    case 'bool':
      return c.u8() !== 0;
    case 'u64':
      return c.u64();
    case 'i64':
      return c.i64();
  }
}

/** A string that is wholly buffered and within limits, read without awaiting; else undefined. */
function stringNow(c: HeaderCursor): string | undefined {
  if (!c.has(8)) return undefined;
  const start = c.pos;
  const len = c.u64();
  if (len <= BigInt(LIMITS.stringBytes) && c.has(Number(len))) return utf8.decode(c.bytes(Number(len)));
  c.pos = start; // let the slow path report it
  return undefined;
}

async function readString(c: HeaderCursor, what: string): Promise<string> {
  const len = await c.count(`the length of ${what}`, LIMITS.stringBytes, `strings are at most ${LIMITS.stringBytes} bytes`);
  await c.need(len, what);
  return utf8.decode(c.bytes(len));
}

async function readScalar(c: HeaderCursor, t: GgufScalarType, what: string): Promise<GgufValue> {
  if (t === 'string') return readString(c, what);
  await c.need(SCALAR_SIZE[t], what);
  return scalarNow(c, t);
}

function badType(label: string, id: number, where: string): SparseScopeError {
  return new SparseScopeError('bad-metadata', `${label}: ${where} has value type ${id}, which GGUF does not define; supported: ${VALUE_TYPE_LIST}`);
}

async function readValue(c: HeaderCursor, label: string, key: string): Promise<[GgufValue, GgufValueType]> {
  await c.need(4, `the value type of "${key}"`);
  const typeId = c.u32();
  if (typeId !== ARRAY_ID) {
    const t = scalarTypeName(typeId);
    if (t === undefined) throw badType(label, typeId, `key "${key}"`);
    return [await readScalar(c, t, `the value of "${key}"`), t];
  }
  await c.need(4, `the element type of array "${key}"`);
  const elemId = c.u32();
  if (elemId === ARRAY_ID) {
    throw new SparseScopeError('bad-metadata', `${label}: key "${key}" is an array of arrays; supported: ${VALUE_TYPE_LIST}`);
  }
  const et = scalarTypeName(elemId);
  if (et === undefined) throw badType(label, elemId, `the elements of array "${key}"`);
  const n = await c.count(`the length of array "${key}"`, LIMITS.arrayLength, `arrays hold at most ${LIMITS.arrayLength} elements`);
  // each element takes at least its fixed size (strings: their 8-byte length)
  c.requireRemaining(n * (et === 'string' ? 8 : SCALAR_SIZE[et]), `array "${key}" of ${n} ${et}`);
  const out: GgufValue[] = new Array(n);
  if (et !== 'string') {
    await c.need(n * SCALAR_SIZE[et], `array "${key}"`);
    for (let i = 0; i < n; i++) out[i] = scalarNow(c, et);
  } else {
    for (let i = 0; i < n; i++) out[i] = stringNow(c) ?? (await readString(c, `element ${i} of "${key}"`));
  }
  return [out, `${et}[]`];
}

export async function parseHeader(src: ByteSource): Promise<ParsedHeader> {
  const label = src.label;
  const c = new HeaderCursor(src);
  if (src.size < 4) {
    const got = await src.read(0, src.size);
    const isPrefix = Array.from(got).every((b, i) => b === MAGIC[i]);
    if (!isPrefix)
      throw new SparseScopeError('not-gguf', `${label}: starts with ${describeBytes(got)}, not the GGUF magic "GGUF"; only GGUF files are supported`);
    throw new SparseScopeError('truncated', `${label}: only ${src.size} bytes, shorter than the 4-byte GGUF magic; the file is truncated`);
  }
  await c.need(4, 'the magic');
  const magic = c.bytes(4).slice();
  if (!magic.every((b, i) => b === MAGIC[i])) {
    throw new SparseScopeError(
      'not-gguf',
      `${label}: starts with ${describeBytes(magic)}, not the GGUF magic 47 47 55 46 ("GGUF"); only GGUF files are supported`,
    );
  }
  await c.need(4, 'the version');
  const version = c.u32();
  if (version !== 2 && version !== 3) {
    const hint = version === 1 ? ' (GGUF v1 is obsolete)' : (version & 0xffff) === 0 ? ' (a big-endian file?)' : '';
    throw new SparseScopeError('gguf-version', `${label}: GGUF version ${version}${hint}; supported: versions 2 and 3, little-endian`);
  }
  const nTensors = await c.count('the tensor count', LIMITS.tensorCount, `at most ${LIMITS.tensorCount} tensors`);
  const nKv = await c.count('the metadata key count', LIMITS.kvCount, `at most ${LIMITS.kvCount} keys`);
  // smallest key/value: 8 (key length) + 4 (type) + 1 (u8 value); smallest tensor info: 8 + 4 + 4 + 8
  c.requireRemaining(nKv * 13 + nTensors * 24, `${nKv} metadata entries and ${nTensors} tensor infos`);

  const metadata: Record<string, GgufValue> = Object.create(null);
  const metadataTypes: Record<string, GgufValueType> = Object.create(null);
  for (let i = 0; i < nKv; i++) {
    const key = await readString(c, `metadata key ${i}`);
    if (key in metadata) throw new SparseScopeError('bad-metadata', `${label}: metadata key "${key}" appears twice`);
    const [value, type] = await readValue(c, label, key);
    metadata[key] = value;
    metadataTypes[key] = type;
  }

  let alignment = 32;
  if ('general.alignment' in metadata) {
    const a = metadata['general.alignment'];
    if (metadataTypes['general.alignment'] !== 'u32' || typeof a !== 'number' || a === 0 || (a & (a - 1)) !== 0) {
      throw new SparseScopeError(
        'bad-metadata',
        `${label}: general.alignment is ${String(a)} (${metadataTypes['general.alignment']}); it must be a u32 power of two (default 32)`,
      );
    }
    alignment = a;
  }

  const tensors: RawTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    const name = await readString(c, `the name of tensor ${i}`);
    if (names.has(name)) throw new SparseScopeError('bad-metadata', `${label}: tensor "${name}" appears twice`);
    names.add(name);
    await c.need(4, `the dimension count of tensor "${name}"`);
    const nDims = c.u32();
    if (nDims > LIMITS.dims) {
      throw new SparseScopeError('absurd-size', `${label}: tensor "${name}" has ${nDims} dimensions; ggml supports at most ${LIMITS.dims}`);
    }
    const shape: number[] = [];
    for (let d = 0; d < nDims; d++) {
      shape.push(await c.count(`dimension ${d} of tensor "${name}"`, LIMITS.dim, 'dimensions must be exact in a double'));
    }
    await c.need(4, `the type of tensor "${name}"`);
    const type = c.u32();
    const relOffset = await c.count(`the data offset of tensor "${name}"`, LIMITS.dim, 'offsets must be exact in a double');
    tensors.push({ name, type, shape, relOffset });
  }
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  return { version, metadata, metadataTypes, tensors, alignment, dataOffset };
}
