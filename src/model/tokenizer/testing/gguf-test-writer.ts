/**
 * Test-only GGUF v3 writer for metadata-only files (no tensors): enough for llama.cpp to load a
 * vocab with `vocabOnly`. Kept here until the shared src/gguf/writer.ts exists; values carry their
 * GGUF type explicitly because llama.cpp checks types (token_type must be INT32, scores FLOAT32).
 */
export type GgufValue =
  | { type: 'u32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: readonly string[] }
  | { type: 'i32[]'; value: readonly number[] }
  | { type: 'f32[]'; value: readonly number[] };

const T = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;

export function serializeMetadataGguf(kv: Record<string, GgufValue>): Uint8Array {
  const chunks: Uint8Array[] = [];
  const enc = new TextEncoder();
  const u32 = (v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    chunks.push(b);
  };
  const i32 = (v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    chunks.push(b);
  };
  const f32 = (v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    chunks.push(b);
  };
  const u64 = (v: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    chunks.push(b);
  };
  const str = (s: string) => {
    const b = enc.encode(s);
    u64(b.length);
    chunks.push(b);
  };

  chunks.push(enc.encode('GGUF'));
  u32(3); // version
  u64(0); // tensors
  u64(Object.keys(kv).length);
  for (const [key, v] of Object.entries(kv)) {
    str(key);
    switch (v.type) {
      case 'u32':
        u32(T.u32);
        u32(v.value);
        break;
      case 'f32':
        u32(T.f32);
        f32(v.value);
        break;
      case 'bool':
        u32(T.bool);
        chunks.push(Uint8Array.of(v.value ? 1 : 0));
        break;
      case 'string':
        u32(T.string);
        str(v.value);
        break;
      case 'string[]':
        u32(T.array);
        u32(T.string);
        u64(v.value.length);
        v.value.forEach(str);
        break;
      case 'i32[]':
        u32(T.array);
        u32(T.i32);
        u64(v.value.length);
        v.value.forEach(i32);
        break;
      case 'f32[]':
        u32(T.array);
        u32(T.f32);
        u64(v.value.length);
        v.value.forEach(f32);
        break;
    }
  }
  const size = chunks.reduce((n, c) => n + c.length, 0);
  const padded = Math.ceil(size / 32) * 32; // data section starts aligned (and is empty)
  const out = new Uint8Array(padded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The plain-object view our tokenizer takes (what the GGUF reader returns). */
export function metadataObject(kv: Record<string, GgufValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(kv).map(([k, v]) => [k, v.value]));
}
