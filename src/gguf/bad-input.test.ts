/**
 * Every malformed file must end in a SparseScopeError with the right code, never a crash, a hang or
 * a huge allocation. Headers here are built byte by byte (not with our writer) so they can lie.
 */
import { describe, expect, it } from 'vitest';
import { SparseScopeError, type ErrorCode } from '../errors.ts';
import { openGguf } from './reader.ts';
import { serializeGguf } from './writer.ts';
import { GgmlType } from './types.ts';
import { concat, memorySource, ramp } from './test-fixtures.ts';
import { quantize } from './codecs/index.ts';

/** Little-endian byte builder for hand-made headers. */
class B {
  parts: number[] = [];
  u8(v: number) {
    this.parts.push(v & 0xff);
    return this;
  }
  u32(v: number) {
    for (let i = 0; i < 4; i++) this.parts.push((v >>> (8 * i)) & 0xff);
    return this;
  }
  u64(v: bigint | number) {
    let x = BigInt(v);
    for (let i = 0; i < 8; i++) {
      this.parts.push(Number(x & 0xffn));
      x >>= 8n;
    }
    return this;
  }
  str(s: string) {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.parts.push(...b);
    return this;
  }
  bytes(n: number) {
    for (let i = 0; i < n; i++) this.parts.push(0);
    return this;
  }
  out() {
    return new Uint8Array(this.parts);
  }
}

interface T {
  name: string;
  dims: Array<number | bigint>;
  type: number;
  offset: number | bigint;
}

/** GGUF v3 header + zero data: kvs given as a function writing onto the builder. */
function file(opts: {
  version?: number;
  nTensors?: bigint | number;
  nKv?: bigint | number;
  kv?: (b: B) => number;
  tensors?: T[];
  data?: number;
  alignment?: number;
}): Uint8Array {
  const b = new B()
    .u8(0x47)
    .u8(0x47)
    .u8(0x55)
    .u8(0x46)
    .u32(opts.version ?? 3);
  const tensors = opts.tensors ?? [];
  const body = new B();
  const nkv = opts.kv ? opts.kv(body) : 0;
  b.u64(opts.nTensors ?? tensors.length).u64(opts.nKv ?? nkv);
  b.parts.push(...body.parts);
  for (const t of tensors) {
    b.str(t.name).u32(t.dims.length);
    for (const d of t.dims) b.u64(d);
    b.u32(t.type).u64(t.offset);
  }
  const a = opts.alignment ?? 32;
  while (b.parts.length % a) b.u8(0);
  b.bytes(opts.data ?? 0);
  return b.out();
}

async function codeOf(bytes: Uint8Array): Promise<ErrorCode | 'ok'> {
  try {
    const g = await openGguf({ kind: 'bytes', source: memorySource(bytes) });
    await g.close();
    return 'ok';
  } catch (e) {
    if (!(e instanceof SparseScopeError)) throw e;
    expect(e.message.length).toBeGreaterThan(20);
    return e.code;
  }
}

async function expectCode(bytes: Uint8Array, code: ErrorCode, message?: RegExp) {
  const p = openGguf({ kind: 'bytes', source: memorySource(bytes) });
  await expect(p).rejects.toBeInstanceOf(SparseScopeError);
  await expect(p).rejects.toMatchObject({ code });
  if (message) await expect(p).rejects.toThrow(message);
}

const f32 = (name: string, n: number, offset: number | bigint): T => ({ name, dims: [n], type: GgmlType.F32, offset });

describe('a valid hand-made file opens', () => {
  it('sanity', async () => {
    expect(await codeOf(file({ tensors: [f32('a', 8, 0), f32('b', 8, 32)], data: 64 }))).toBe('ok');
  });
});

describe('truncation at every point', () => {
  it('every cut before the end of the last tensor is "truncated"; after it the file opens', async () => {
    const spec = {
      metadata: [
        { key: 'general.architecture', type: 'string' as const, value: 'deepseek2' },
        { key: 'deepseek2.block_count', type: 'u32' as const, value: 2 },
        { key: 'tokenizer.ggml.tokens', type: 'string[]' as const, value: ['<s>', 'a', 'bc'] },
        { key: 'tokenizer.ggml.scores', type: 'f32[]' as const, value: [0, -1, -2] },
        { key: 'x.u64', type: 'u64' as const, value: 7n },
      ],
      tensors: [
        { name: 'token_embd.weight', type: GgmlType.Q8_0, shape: [32, 3], data: quantize(GgmlType.Q8_0, ramp(96)) },
        { name: 'output_norm.weight', type: GgmlType.F32, shape: [5], data: new Uint8Array(20) },
        { name: 'output.weight', type: GgmlType.Q4_K, shape: [256, 1], data: quantize(GgmlType.Q4_K, ramp(256)) },
      ],
    };
    const full = concat(serializeGguf(spec));
    const g = await openGguf({ kind: 'bytes', source: memorySource(full) });
    const end = Math.max(...g.tensors.map((t) => t.offset + t.byteLength));
    const dataStart = g.dataOffset;
    const cuts: number[] = [];
    for (let c = 0; c <= dataStart + 8; c++) cuts.push(c);
    for (let c = dataStart + 8; c <= full.length; c += 7) cuts.push(c);
    cuts.push(end - 1, end, full.length);
    for (const c of cuts) {
      const code = await codeOf(full.subarray(0, c));
      expect([c, code]).toEqual([c, c < end ? 'truncated' : 'ok']);
    }
  });
});

describe('magic and version', () => {
  it('a wrong magic is not-gguf and names the bytes found', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    await expectCode(png, 'not-gguf', /89 50 4e 47/);
    const ggml = file({});
    ggml[3] = 0x4c; // "GGUL"
    await expectCode(ggml, 'not-gguf', /"GGUL"/);
    await expectCode(new Uint8Array([0x7b]), 'not-gguf');
    await expectCode(new Uint8Array([0x47, 0x47]), 'truncated');
    await expectCode(new Uint8Array(0), 'truncated');
  });

  it('versions other than 2 and 3 are gguf-version', async () => {
    expect(await codeOf(file({ version: 2 }))).toBe('ok');
    await expectCode(file({ version: 1 }), 'gguf-version', /obsolete/);
    await expectCode(file({ version: 4 }), 'gguf-version', /versions 2 and 3/);
    await expectCode(file({ version: 0x03000000 }), 'gguf-version', /big-endian/);
  });
});

describe('absurd sizes are refused before allocating', () => {
  it('counts', async () => {
    await expectCode(file({ nTensors: 2n ** 62n }), 'absurd-size', /tensor count/);
    await expectCode(file({ nKv: 2n ** 40n }), 'absurd-size', /key count/);
    await expectCode(file({ nKv: 0xffffffffffffffffn }), 'absurd-size');
    // plausible counts that the file cannot hold are reported as truncation
    await expectCode(file({ nKv: 1000 }), 'truncated', /needs at least 13000 bytes/);
    await expectCode(file({ nTensors: 100000 }), 'truncated');
  });

  it('string and array lengths', async () => {
    await expectCode(
      file({
        kv: (b) => {
          b.u64(2n ** 50n);
          return 1;
        },
        data: 64,
      }),
      'absurd-size',
      /length of metadata key 0/,
    );
    await expectCode(
      file({
        kv: (b) => {
          b.str('k')
            .u32(8)
            .u64(2n ** 63n);
          return 1;
        },
        data: 64,
      }),
      'absurd-size',
      /length of the value of "k"/,
    );
    await expectCode(
      file({
        kv: (b) => {
          b.str('k')
            .u32(9)
            .u32(4)
            .u64(2n ** 60n);
          return 1;
        },
        data: 64,
      }),
      'absurd-size',
      /array "k"/,
    );
    // 1M u32 elements in a tiny file: refused by the remaining-bytes check, not allocated
    await expectCode(
      file({
        kv: (b) => {
          b.str('k').u32(9).u32(4).u64(1_000_000);
          return 1;
        },
      }),
      'truncated',
      /array "k"/,
    );
    await expectCode(
      file({
        kv: (b) => {
          b.str('k').u32(9).u32(8).u64(1_000_000);
          return 1;
        },
      }),
      'truncated',
    );
    await expectCode(
      file({
        kv: (b) => {
          b.str('k').u32(8).u64(1_000_000);
          return 1;
        },
      }),
      'truncated',
    );
  });

  it('dimensions', async () => {
    await expectCode(file({ tensors: [{ name: 'w', dims: [1, 1, 1, 1, 1], type: 0, offset: 0 }] }), 'absurd-size', /5 dimensions/);
    await expectCode(file({ nTensors: 1, kv: () => 0, tensors: [{ name: 'w', dims: [2n ** 60n], type: 0, offset: 0 }] }), 'absurd-size', /dimension 0/);
    await expectCode(file({ tensors: [{ name: 'w', dims: [2 ** 26, 2 ** 26], type: 0, offset: 0 }], data: 64 }), 'absurd-size', /more than the whole/);
    await expectCode(file({ tensors: [{ name: 'w', dims: [2 ** 30, 2 ** 30, 2 ** 30], type: 0, offset: 0 }] }), 'absurd-size');
  });
});

describe('tensor layout', () => {
  it('overlapping tensors', async () => {
    await expectCode(file({ tensors: [f32('a', 16, 0), f32('b', 16, 32)], data: 128 }), 'overlapping-tensors', /"a".*"b"/);
    await expectCode(file({ tensors: [f32('a', 8, 0), f32('b', 8, 0)], data: 64 }), 'overlapping-tensors');
  });

  it('misaligned tensors (default 32 and general.alignment)', async () => {
    await expectCode(file({ tensors: [f32('a', 4, 16)], data: 64 }), 'misaligned-tensor', /alignment = 32/);
    const kv = (b: B) => {
      b.str('general.alignment').u32(4).u32(64);
      return 1;
    };
    await expectCode(file({ kv, tensors: [f32('a', 4, 32)], data: 128, alignment: 64 }), 'misaligned-tensor', /alignment = 64/);
    expect(await codeOf(file({ kv, tensors: [f32('a', 4, 64)], data: 128, alignment: 64 }))).toBe('ok');
  });

  it('bad general.alignment values are bad-metadata', async () => {
    for (const v of [0, 3, 48]) {
      await expectCode(
        file({
          kv: (b) => {
            b.str('general.alignment').u32(4).u32(v);
            return 1;
          },
        }),
        'bad-metadata',
        /power of two/,
      );
    }
    await expectCode(
      file({
        kv: (b) => {
          b.str('general.alignment').u32(10).u64(32);
          return 1;
        },
      }),
      'bad-metadata',
      /u32/,
    );
  });

  it('tensor data beyond the end of the file is out-of-bounds', async () => {
    await expectCode(file({ tensors: [f32('a', 8, 2 ** 40)], data: 64 }), 'out-of-bounds', /beyond the end/);
    await expectCode(file({ tensors: [f32('a', 8, 0), f32('b', 8, 4096)], data: 64 }), 'out-of-bounds', /"b"/);
  });

  it('unknown and removed tensor type ids are unsupported-quant', async () => {
    await expectCode(file({ tensors: [{ name: 'w', dims: [32], type: 99, offset: 0 }], data: 64 }), 'unsupported-quant', /type id 99.*Q4_K/);
    await expectCode(file({ tensors: [{ name: 'w', dims: [32], type: 4, offset: 0 }], data: 64 }), 'unsupported-quant');
  });

  it('rows that are not whole blocks are wrong-shape', async () => {
    await expectCode(file({ tensors: [{ name: 'w', dims: [100], type: GgmlType.Q4_K, offset: 0 }], data: 256 }), 'wrong-shape', /256-value blocks/);
  });

  it('duplicate names and keys, unknown value types and nested arrays are bad-metadata', async () => {
    await expectCode(file({ tensors: [f32('a', 8, 0), f32('a', 8, 32)], data: 64 }), 'bad-metadata', /twice/);
    await expectCode(
      file({
        kv: (b) => {
          b.str('k').u32(4).u32(1).str('k').u32(4).u32(2);
          return 2;
        },
      }),
      'bad-metadata',
      /twice/,
    );
    await expectCode(
      file({
        kv: (b) => {
          b.str('k').u32(13).u32(0);
          return 1;
        },
      }),
      'bad-metadata',
      /value type 13/,
    );
    await expectCode(
      file({
        kv: (b) => {
          b.str('k').u32(9).u32(9).u64(0);
          return 1;
        },
      }),
      'bad-metadata',
      /array of arrays/,
    );
  });
});

describe('random corruption', () => {
  it('flipping bytes of a valid file never escapes as a non-SparseScopeError', async () => {
    const full = concat(
      serializeGguf({
        metadata: [
          { key: 'general.architecture', type: 'string', value: 'deepseek2' },
          { key: 'tokenizer.ggml.tokens', type: 'string[]', value: ['a', 'b', 'c', 'd'] },
          { key: 'n', type: 'u32', value: 3 },
        ],
        tensors: [
          { name: 'a', type: GgmlType.F16, shape: [4, 2], data: new Uint8Array(16) },
          { name: 'b', type: GgmlType.Q8_0, shape: [32], data: new Uint8Array(34) },
        ],
      }),
    );
    let s = 12345;
    const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const seen = new Set<string>();
    for (let k = 0; k < 400; k++) {
      const b = full.slice();
      const flips = 1 + Math.floor(rnd() * 3);
      for (let i = 0; i < flips; i++) b[Math.floor(rnd() * 200)] = Math.floor(rnd() * 256);
      seen.add(await codeOf(b));
    }
    expect(seen.size).toBeGreaterThan(2);
  });
});
