import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf as hfGguf } from '@huggingface/gguf';
import { openGguf, type GgufFile } from './reader.ts';
import { serializeGguf } from './writer.ts';
import { writeGgufFile } from './write-file.ts';
import { dequantize } from './codecs/index.ts';
import { GgmlType, tensorByteLength } from './types.ts';
import { ALL_VALUE_TYPES, concat, memorySource, ramp, sampleSpec } from './test-fixtures.ts';

let dir: string;
let path: string;
let bytes: Uint8Array;
let server: Server;
let url: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gguf-test-'));
  path = join(dir, 'sample.gguf');
  await writeGgufFile(path, sampleSpec());
  bytes = new Uint8Array(await readFile(path));
  server = createServer((req, res) => {
    const m = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '');
    if (!m) {
      res.writeHead(200, { 'content-length': bytes.length });
      res.end(Buffer.from(bytes));
      return;
    }
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), bytes.length - 1);
    res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${bytes.length}`, 'content-length': end - start + 1 });
    res.end(Buffer.from(bytes.subarray(start, end + 1)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/sample.gguf`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

async function snapshot(g: GgufFile) {
  const data: Record<string, number[]> = {};
  for (const t of g.tensors) data[t.name] = Array.from(await g.readBytes(t));
  await g.close();
  return { version: g.version, metadata: g.metadata, types: g.metadataTypes, tensors: g.tensors, data, size: g.fileSize };
}

describe('write -> read round trip', () => {
  it('serializeGguf chunks equal the written file', () => {
    expect(concat(serializeGguf(sampleSpec()))).toEqual(bytes);
  });

  it('metadata of every value type comes back with its type', async () => {
    const g = await openGguf({ kind: 'path', path });
    expect(g.version).toBe(3);
    for (const e of ALL_VALUE_TYPES) {
      expect(g.metadata[e.key], e.key).toEqual(e.value);
      expect(g.metadataTypes[e.key], e.key).toBe(e.type);
    }
    expect(Object.keys(g.metadata)).toEqual(ALL_VALUE_TYPES.map((e) => e.key)); // file order kept
    await g.close();
  });

  it('tensors of every type: shape, type, aligned offset, bytes and dequantized values', async () => {
    const spec = sampleSpec();
    const g = await openGguf({ kind: 'path', path });
    expect(g.tensors.map((t) => t.name)).toEqual(spec.tensors.map((t) => t.name));
    for (const s of spec.tensors) {
      const t = g.tensor(s.name)!;
      expect(t.type).toBe(s.type);
      expect(t.shape).toEqual(s.shape);
      expect(t.byteLength).toBe(tensorByteLength(s.type, s.shape));
      expect(t.offset % 32).toBe(0);
      expect(await g.readBytes(t)).toEqual(s.data);
      const f = await g.readF32(s.name);
      expect(f).toEqual(dequantize(s.type, s.data, 512));
      expect(await g.readRowsF32(s.name, 1, 1)).toEqual(f.subarray(256));
      expect(await g.readBytes(t, 3, 5)).toEqual(s.data.subarray(3, 8));
    }
    expect(g.tensor('nope')).toBeUndefined();
    await expect(g.readF32('nope')).rejects.toMatchObject({ code: 'missing-tensor' });
    await expect(g.readBytes(g.tensors[0], 0, g.tensors[0].byteLength + 1)).rejects.toMatchObject({ code: 'out-of-bounds' });
    await g.close();
  });

  it('honours a non-default alignment (written as general.alignment)', async () => {
    const ref = await openGguf({ kind: 'path', path });
    const q4k = Array.from(await ref.readF32('t.Q4_K'));
    await ref.close();
    for (const alignment of [1, 8, 64, 4096]) {
      const b = concat(serializeGguf(sampleSpec(alignment)));
      const g = await openGguf({ kind: 'bytes', source: memorySource(b) });
      expect(g.alignment).toBe(alignment);
      expect(g.dataOffset % alignment).toBe(0);
      for (const t of g.tensors) expect(t.offset % alignment).toBe(0);
      expect(g.metadata['general.alignment']).toBe(alignment === 32 ? undefined : alignment);
      expect(Array.from(await g.readF32('t.Q4_K'))).toEqual(q4k);
    }
  });

  it('accepts metadata as an ordered record and 0-d / 1-d / 4-d shapes', async () => {
    const b = concat(
      serializeGguf({
        metadata: { 'general.architecture': { type: 'string', value: 'x' }, 'x.block_count': { type: 'u32', value: 2 } },
        tensors: [
          { name: 'scalar', type: GgmlType.F32, shape: [], data: new Uint8Array(4) },
          { name: 'vec', type: GgmlType.F16, shape: [3], data: new Uint8Array(6) },
          { name: 'four', type: GgmlType.Q8_0, shape: [32, 2, 1, 3], data: new Uint8Array(34 * 6) },
          { name: 'empty', type: GgmlType.F32, shape: [0, 5], data: new Uint8Array(0) },
        ],
      }),
    );
    const g = await openGguf({ kind: 'bytes', source: memorySource(b) });
    expect(g.metadata).toEqual({ 'general.architecture': 'x', 'x.block_count': 2 });
    expect(g.tensors.map((t) => [t.name, t.shape, t.byteLength])).toEqual([
      ['scalar', [], 4],
      ['vec', [3], 6],
      ['four', [32, 2, 1, 3], 204],
      ['empty', [0, 5], 0],
    ]);
  });

  it('@huggingface/gguf reads our files the same way (independent parser)', async () => {
    const r = await hfGguf(path, { allowLocalFile: true });
    const g = await openGguf({ kind: 'path', path });
    expect(Number(r.tensorDataOffset)).toBe(g.dataOffset);
    expect(r.tensorInfos.map((t) => [t.name, t.dtype, t.shape.map(Number), Number(t.offset) + g.dataOffset])).toEqual(
      g.tensors.map((t) => [t.name, t.type, t.shape, t.offset]),
    );
    await g.close();
    expect((r.metadata as Record<string, unknown>)['t.strings']).toEqual(ALL_VALUE_TYPES.find((e) => e.key === 't.strings')!.value);
  });
});

describe('sources read the same file identically', () => {
  it('path, blob, url and memory', async () => {
    const fromPath = await snapshot(await openGguf({ kind: 'path', path }));
    const fromBlob = await snapshot(await openGguf({ kind: 'blob', blob: new Blob([bytes as Uint8Array<ArrayBuffer>]) }));
    const fromUrl = await snapshot(await openGguf({ kind: 'url', url }));
    const fromMem = await snapshot(await openGguf({ kind: 'bytes', source: memorySource(bytes) }));
    expect(fromBlob).toEqual(fromPath);
    expect(fromUrl).toEqual(fromPath);
    expect(fromMem).toEqual(fromPath);
  });

  it('url source with a custom fetch, and a server that ignores Range is refused', async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const g = await openGguf({ kind: 'url', url, fetch: counting });
    expect((await g.readF32('t.Q8_0')).length).toBe(512);
    await g.close();
    expect(calls).toBeGreaterThanOrEqual(3);
    const noRange: typeof fetch = async () => new Response(bytes.slice(), { status: 200 });
    await expect(openGguf({ kind: 'url', url, fetch: noRange })).rejects.toMatchObject({ code: 'network' });
    const down: typeof fetch = async () => {
      throw new TypeError('connection refused');
    };
    await expect(openGguf({ kind: 'url', url, fetch: down })).rejects.toMatchObject({ code: 'network' });
  });

  it('a missing path is a bad-argument error', async () => {
    await expect(openGguf({ kind: 'path', path: join(dir, 'absent.gguf') })).rejects.toMatchObject({ code: 'bad-argument' });
  });

  it('offsets beyond 2^32 are exact (sparse source, nothing read in between)', async () => {
    // A header whose only tensor sits 5 GiB into the data section; the source serves zeros there.
    const head = concat(serializeGguf({ metadata: [], tensors: [{ name: 'w', type: GgmlType.F32, shape: [8], data: new Uint8Array(32) }] }));
    const dv = new DataView(head.buffer);
    const big = 5 * 2 ** 30;
    // offset field = last 8 bytes before padding of the single tensor info: find it by value 0
    const infoEnd = 4 + 4 + 8 + 8 + 8 + 1 + 4 + 8 + 4 + 8;
    dv.setBigUint64(infoEnd - 8, BigInt(big), true);
    const dataOffset = Math.ceil(infoEnd / 32) * 32;
    const size = dataOffset + big + 32;
    const reads: Array<[number, number]> = [];
    const src = {
      size,
      label: 'sparse.gguf',
      read: async (o: number, n: number) => {
        reads.push([o, n]);
        const out = new Uint8Array(n);
        for (let i = 0; i < n; i++) out[i] = o + i < head.length ? head[o + i] : o + i >= dataOffset + big ? 0x3f : 0;
        return out;
      },
      close: async () => {},
    };
    const g = await openGguf({ kind: 'bytes', source: src });
    expect(g.tensors[0].offset).toBe(dataOffset + big);
    const f = await g.readF32('w');
    expect(f[0]).toBe(new Float32Array(new Uint8Array([0x3f, 0x3f, 0x3f, 0x3f]).buffer)[0]);
    expect(Math.max(...reads.map(([, n]) => n))).toBeLessThanOrEqual(1 << 20);
    void ramp;
  });
});
