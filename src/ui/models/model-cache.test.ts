/**
 * The model cache's storage faults, against an in-memory Cache Storage and fetch: a full quota
 * leaves nothing of the model cached and says so ('storage'); a cached file whose size changed is
 * refused and removed before use; a split set downloads as one model (one progress over all parts,
 * one listing entry, one delete) and a set with a part gone is not a cached model.
 */
import { beforeEach, describe, expect, it } from 'vitest';

/** Cache Storage in memory; `quota` bytes in all, put() rejects with QuotaExceededError past it. */
class FakeCache {
  entries = new Map<string, { body: Uint8Array; headers: Headers }>();
  quota = Infinity;
  used() {
    return [...this.entries.values()].reduce((a, e) => a + e.body.length, 0);
  }
  async put(url: string, res: Response) {
    const body = new Uint8Array(await res.arrayBuffer());
    if (this.used() + body.length > this.quota) throw new DOMException('quota', 'QuotaExceededError');
    this.entries.set(url, { body, headers: res.headers });
  }
  async match(url: string | Request) {
    const e = this.entries.get(typeof url === 'string' ? url : url.url);
    return e ? new Response(e.body as BlobPart, { headers: e.headers }) : undefined;
  }
  async delete(url: string) {
    return this.entries.delete(url);
  }
  async keys() {
    return [...this.entries.keys()].map((u) => new Request(u));
  }
}

const cache = new FakeCache();
const served = new Map<string, Uint8Array>();
Object.assign(globalThis, {
  self: globalThis,
  caches: { open: async () => cache },
  fetch: async (url: string, init?: RequestInit) => {
    const b = served.get(url);
    if (!b) return new Response('', { status: 404 });
    const headers = { 'content-length': String(b.length) };
    return init?.method === 'HEAD' ? new Response(null, { headers }) : new Response(b as BlobPart, { headers });
  },
});

const { cachedBlobs, deleteCached, downloadSetToCache, listCached, partUrls } = await import('./model-cache.ts');

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const never = new AbortController().signal;
const SET = ['m-00001-of-00003.gguf', 'm-00002-of-00003.gguf', 'm-00003-of-00003.gguf'].map((n) => `http://models.test/${n}`);

beforeEach(() => {
  cache.entries.clear();
  cache.quota = Infinity;
  served.clear();
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'ok',
    (e: { code?: string }) => e.code ?? String(e),
  );
}

describe('model cache', () => {
  it('a split set: every part, one progress over all, one listing entry, one delete', async () => {
    SET.forEach((u, i) => served.set(u, bytes(1000 + i * 10, i)));
    expect(partUrls(SET[0])).toEqual(SET);
    const seen: { loaded: number; total: number }[] = [];
    const blobs = await downloadSetToCache(SET[0], (p) => seen.push(p), never);
    expect(await Promise.all(blobs.map(async (b) => new Uint8Array(await b.arrayBuffer())))).toEqual(SET.map((u) => served.get(u)));
    const total = 1000 + 1010 + 1020;
    expect(seen.at(-1)).toMatchObject({ loaded: total, total });
    expect(seen.every((p) => p.total === total && p.loaded <= total)).toBe(true);
    expect(await listCached()).toEqual([{ url: SET[0], name: 'm-00001-of-00003.gguf', bytes: total, parts: 3 }]);
    cache.entries.delete(SET[1]);
    expect(await cachedBlobs(SET[0])).toBeUndefined(); // a part gone: not a cached model (and the rest removed)
    expect(cache.entries.size).toBe(0);
    await downloadSetToCache(SET[0], () => {}, never);
    await deleteCached(SET[0]);
    expect(cache.entries.size).toBe(0);
  });

  it('quota exceeded mid-set: a typed storage error and nothing of the model left', async () => {
    SET.forEach((u, i) => served.set(u, bytes(1000, i)));
    cache.quota = 2500;
    expect(await codeOf(downloadSetToCache(SET[0], () => {}, never))).toBe('storage');
    expect(cache.entries.size).toBe(0);
    // known too big before starting: refused without a byte stored
    cache.quota = Infinity;
    expect(await codeOf(downloadSetToCache(SET[0], () => {}, never, 2000))).toBe('storage');
    expect(cache.entries.size).toBe(0);
  });

  it('a cached file that changed size is refused and removed before use', async () => {
    const url = 'http://models.test/whole.gguf';
    served.set(url, bytes(4096, 7));
    await downloadSetToCache(url, () => {}, never);
    expect((await cachedBlobs(url))?.[0].size).toBe(4096);
    const e = cache.entries.get(url)!;
    cache.entries.set(url, { body: e.body.slice(0, 4000), headers: e.headers }); // truncated on disk
    expect(await codeOf(cachedBlobs(url))).toBe('storage');
    expect(cache.entries.has(url)).toBe(false);
  });
});
