/**
 * Where each count, length and type field of a (valid) GGUF v3 header sits, so the fuzzer can set
 * exactly those bytes to boundary values. A plain synchronous walk: the input is our own fixture.
 */
export type FieldKind = 'u32' | 'u64';

export interface HeaderField {
  /** byte offset in the file */
  at: number;
  kind: FieldKind;
  /** what it is, e.g. `kv[3] "deepseek32.block_count" value` or `tensor[5] dim 1` */
  what: string;
  /** the key or tensor it belongs to */
  owner: string;
}

const SCALAR_SIZE: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const STRING = 8;
const ARRAY = 9;

export function headerFields(bytes: Uint8Array): { fields: HeaderField[]; headerEnd: number } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fields: HeaderField[] = [];
  let p = 8; // magic + version
  const u32 = () => {
    const x = v.getUint32(p, true);
    p += 4;
    return x;
  };
  const u64 = () => {
    const x = Number(v.getBigUint64(p, true));
    p += 8;
    return x;
  };
  const str = (what: string, owner: string) => {
    fields.push({ at: p, kind: 'u64', what: `${what} length`, owner });
    const n = u64();
    const s = new TextDecoder().decode(bytes.subarray(p, p + n));
    p += n;
    return s;
  };
  fields.push({ at: p, kind: 'u64', what: 'tensor_count', owner: 'header' });
  const nTensors = u64();
  fields.push({ at: p, kind: 'u64', what: 'kv_count', owner: 'header' });
  const nKv = u64();
  for (let i = 0; i < nKv; i++) {
    const key = str(`kv[${i}] key`, `kv[${i}]`);
    fields.push({ at: p, kind: 'u32', what: `kv[${i}] "${key}" value type`, owner: key });
    const t = u32();
    if (t === ARRAY) {
      fields.push({ at: p, kind: 'u32', what: `kv[${i}] "${key}" element type`, owner: key });
      const et = u32();
      fields.push({ at: p, kind: 'u64', what: `kv[${i}] "${key}" array length`, owner: key });
      const n = u64();
      for (let j = 0; j < n; j++) {
        if (et === STRING) {
          // every string length of a long array would swamp the field list: keep the first few
          if (j < 4) str(`kv[${i}] "${key}"[${j}]`, key);
          else p += 8 + Number(v.getBigUint64(p, true));
        } else p += SCALAR_SIZE[et];
      }
    } else if (t === STRING) {
      str(`kv[${i}] "${key}" value`, key);
    } else {
      if (SCALAR_SIZE[t] === 4) fields.push({ at: p, kind: 'u32', what: `kv[${i}] "${key}" value`, owner: key });
      if (SCALAR_SIZE[t] === 8) fields.push({ at: p, kind: 'u64', what: `kv[${i}] "${key}" value`, owner: key });
      p += SCALAR_SIZE[t];
    }
  }
  for (let i = 0; i < nTensors; i++) {
    const name = str(`tensor[${i}] name`, `tensor[${i}]`);
    fields.push({ at: p, kind: 'u32', what: `tensor[${i}] "${name}" n_dims`, owner: name });
    const nd = u32();
    for (let d = 0; d < nd; d++) {
      fields.push({ at: p, kind: 'u64', what: `tensor[${i}] "${name}" dim ${d}`, owner: name });
      p += 8;
    }
    fields.push({ at: p, kind: 'u32', what: `tensor[${i}] "${name}" type`, owner: name });
    p += 4;
    fields.push({ at: p, kind: 'u64', what: `tensor[${i}] "${name}" offset`, owner: name });
    p += 8;
  }
  return { fields, headerEnd: p };
}
