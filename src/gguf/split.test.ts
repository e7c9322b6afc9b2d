/**
 * Split sets open as one file: the whole file and its 3 parts (written by splitGgufSpec) give the
 * same metadata (split.* aside), tensor infos and tensor bytes, by path, URL and Blobs; every broken
 * set (missing, extra, duplicate, mismatched part) is a typed 'split-part' error.
 */
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGguf, type GgufFile, type GgufSource } from './reader.ts';
import { parseSplitName, splitPartNames } from './split.ts';
import { concat, sampleSpec } from './test-fixtures.ts';
import { writeGgufFile, writeSplitGguf } from './write-file.ts';
import { serializeGguf, splitGgufSpec, type GgufMetadataEntry, type GgufSpec } from './writer.ts';

const spec = sampleSpec();
const partBytes = (specs: GgufSpec[]) => specs.map((s) => concat(serializeGguf(s)));
const blob = (bytes: Uint8Array, name: string) => new File([bytes as BlobPart], name);

async function codeOf(source: GgufSource): Promise<string> {
  try {
    await (await openGguf(source)).close();
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

async function expectSameAsWhole(g: GgufFile, whole: GgufFile): Promise<void> {
  const noSplit = (m: Record<string, unknown>) => Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith('split.')));
  expect(noSplit(g.metadata)).toEqual(noSplit(whole.metadata));
  expect(g.tensors.map((t) => [t.name, t.type, t.shape, t.byteLength])).toEqual(whole.tensors.map((t) => [t.name, t.type, t.shape, t.byteLength]));
  for (const t of whole.tensors) expect(await g.readBytes(g.tensor(t.name)!)).toEqual(await whole.readBytes(t));
  expect(g.parts).toHaveLength(3);
  expect(g.parts.reduce((a, p) => a + p.tensorCount, 0)).toBe(whole.tensors.length);
}

describe('split names', () => {
  it('parses and derives the -0000i-of-0000N names, keeping a URL query', () => {
    expect(parseSplitName('/m/x-00002-of-00003.gguf')).toEqual({ prefix: '/m/x', part: 2, count: 3 });
    expect(parseSplitName('x.gguf')).toBeUndefined();
    expect(splitPartNames('http://h/a/x-00001-of-00002.gguf?download=1', 2)).toEqual([
      'http://h/a/x-00001-of-00002.gguf?download=1',
      'http://h/a/x-00002-of-00002.gguf?download=1',
    ]);
    expect(() => splitPartNames('/m/x-00002-of-00003.gguf', 3)).toThrow(expect.objectContaining({ code: 'split-part' }));
    expect(() => splitPartNames('/m/x-00001-of-00004.gguf', 3)).toThrow(expect.objectContaining({ code: 'split-part' }));
  });
});

describe('a 3-part set opens as the whole file', () => {
  let dir: string;
  let whole: GgufFile;
  let paths: string[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'split-'));
    await writeGgufFile(join(dir, 'whole.gguf'), spec);
    whole = await openGguf({ kind: 'path', path: join(dir, 'whole.gguf') });
    paths = await writeSplitGguf(join(dir, 'm'), spec, 3);
  });
  afterAll(async () => {
    await whole.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes gguf-split names and keys', async () => {
    expect(paths.map((p) => p.slice(dir.length + 1))).toEqual(['m-00001-of-00003.gguf', 'm-00002-of-00003.gguf', 'm-00003-of-00003.gguf']);
    const p2 = await openGguf({ kind: 'blob', blob: blob(partBytes(splitGgufSpec(spec, 3))[1], 'p2.gguf') }).catch((e: unknown) => e);
    expect(p2).toMatchObject({ code: 'split-part' }); // part 2 alone: open part 1
  });

  it("by part 1's path", async () => {
    const g = await openGguf({ kind: 'path', path: paths[0] });
    expect(g.parts.map((p) => p.label)).toEqual(paths);
    expect(g.fileSize).toBe(g.parts.reduce((a, p) => a + p.size, 0));
    await expectSameAsWhole(g, whole);
    await g.close();
  });

  it('by all parts as Blobs, in any order', async () => {
    const bytes = partBytes(splitGgufSpec(spec, 3));
    const g = await openGguf({ kind: 'blobs', blobs: [blob(bytes[2], 'c'), blob(bytes[0], 'a'), blob(bytes[1], 'b')] });
    expect(g.parts.map((p) => p.label)).toEqual(['a', 'b', 'c']);
    await expectSameAsWhole(g, whole);
  });

  it("by part 1's URL (the other parts' URLs derived, read by Range)", async () => {
    const bytes = partBytes(splitGgufSpec(spec, 3));
    const served = new Map(bytes.map((b, i) => [`http://models.test/q/m-0000${i + 1}-of-00003.gguf`, b]));
    const fakeFetch = (async (url: string, init?: RequestInit) => {
      const b = served.get(url);
      if (!b) return new Response('', { status: 404 });
      const [, from, to] = /bytes=(\d+)-(\d+)/.exec(new Headers(init?.headers).get('range') ?? '')!.map(Number);
      return new Response(b.slice(from, to + 1) as BlobPart, { status: 206, headers: { 'content-range': `bytes ${from}-${to}/${b.length}` } });
    }) as typeof fetch;
    const g = await openGguf({ kind: 'url', url: 'http://models.test/q/m-00001-of-00003.gguf', fetch: fakeFetch });
    await expectSameAsWhole(g, whole);
    served.delete('http://models.test/q/m-00003-of-00003.gguf');
    expect(await codeOf({ kind: 'url', url: 'http://models.test/q/m-00001-of-00003.gguf', fetch: fakeFetch })).toBe('split-part');
  });

  it('a missing part on disk', async () => {
    const p = await writeSplitGguf(join(dir, 'gone'), spec, 3);
    await unlink(p[2]);
    expect(await codeOf({ kind: 'path', path: p[0] })).toBe('split-part');
  });
});

describe('broken sets are typed split-part errors', () => {
  const parts = splitGgufSpec(spec, 3);
  const withKey = (s: GgufSpec, key: string, value: number): GgufSpec => ({
    ...s,
    metadata: (s.metadata as GgufMetadataEntry[]).map((e) => (e.key === key ? { ...e, value } : e)),
  });
  const asBlobs = (specs: GgufSpec[]) => ({ kind: 'blobs' as const, blobs: partBytes(specs).map((b, i) => blob(b, `part${i}`)) });

  it('one part missing, one extra, a whole file among parts', async () => {
    expect(await codeOf(asBlobs([parts[0], parts[2]]))).toBe('split-part');
    expect(await codeOf(asBlobs([parts[0]]))).toBe('split-part');
    expect(await codeOf(asBlobs([...parts, parts[1]]))).toBe('split-part');
    expect(await codeOf(asBlobs([...parts, spec]))).toBe('split-part');
  });

  it('split.count disagreeing, split.no duplicate or out of range', async () => {
    expect(await codeOf(asBlobs([parts[0], withKey(parts[1], 'split.count', 4), parts[2]]))).toBe('split-part');
    expect(await codeOf(asBlobs([parts[0], parts[1], withKey(parts[2], 'split.no', 1)]))).toBe('split-part');
    expect(await codeOf(asBlobs([parts[0], parts[1], withKey(parts[2], 'split.no', 7)]))).toBe('split-part');
  });

  it('split.tensors.count not the tensors found; a tensor in two parts', async () => {
    expect(await codeOf(asBlobs([withKey(parts[0], 'split.tensors.count', 99), parts[1], parts[2]]))).toBe('split-part');
    const dup = { ...parts[2], tensors: [...parts[2].tensors.slice(1), parts[1].tensors[0]] };
    expect(await codeOf(asBlobs([parts[0], parts[1], dup]))).toBe('split-part');
  });
});
