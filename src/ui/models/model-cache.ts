/**
 * Downloaded models in Cache Storage: one progress figure (bytes, speed, time left) over every part
 * of a split set, cancel by AbortSignal, and a listing with sizes where a split set is one model.
 * Bytes are counted as they stream into the cache, never buffered whole in memory, so multi-GB files
 * work; the engine then reads the cached Blobs by range.
 *
 * Storage faults: a full quota (or any failed write) deletes every part stored so far, so no
 * half-cached model is left; each entry records its size (x-sparsescope-bytes) and a cached file
 * whose size changed (truncated, evicted in part) is refused and removed before the engine sees it.
 */
import { SparseScopeError } from '../../errors.ts';
import { parseSplitName, splitPartNames } from '../../gguf/split.ts';

const CACHE = 'sparsescope-models';
const BYTES = 'x-sparsescope-bytes';

export interface CachedModel {
  /** part 1's URL for a split set */
  url: string;
  name: string;
  /** all parts together */
  bytes: number;
  /** parts stored (1 for a whole file) */
  parts: number;
}

export interface DownloadProgress {
  loaded: number;
  total: number;
  bytesPerSecond: number;
  secondsLeft: number;
}

export const nameOf = (url: string) => decodeURIComponent(url.split(/[?#]/)[0].split('/').pop() || url);

/** The URLs of every part of the model at `url` (itself alone unless it is part 1 of a split set). */
export function partUrls(url: string): string[] {
  const path = url.split(/[?#]/)[0];
  const s = parseSplitName(path);
  return s && s.part === 1 && s.count > 1 ? splitPartNames(url, s.count) : [url];
}

function isQuotaError(e: unknown): boolean {
  const n = (e as { name?: string } | null)?.name;
  return n === 'QuotaExceededError' || (e instanceof Error && /quota/i.test(e.message));
}

const fmtMiB = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

/**
 * The cached Blob(s) of the model at `url` in part order, or undefined when it is not (wholly) cached.
 * A stored part whose size differs from the size recorded when it was stored is a 'storage' error,
 * and the whole model is removed from the cache (download it again).
 */
export async function cachedBlobs(url: string): Promise<Blob[] | undefined> {
  if (!('caches' in self)) return undefined;
  const cache = await caches.open(CACHE);
  const urls = partUrls(url);
  const blobs: Blob[] = [];
  for (const u of urls) {
    const hit = await cache.match(u);
    if (!hit) {
      // a set with a part missing (evicted, or an old partial download): not a usable model
      if (blobs.length > 0) await deleteCached(url);
      return undefined;
    }
    const blob = await hit.blob();
    const recorded = Number(hit.headers.get(BYTES) ?? NaN);
    if (Number.isFinite(recorded) && recorded > 0 && blob.size !== recorded) {
      await deleteCached(url);
      throw new SparseScopeError(
        'storage',
        `The cached copy of ${nameOf(u)} has ${blob.size} bytes but ${recorded} were stored: it changed or was truncated, so it was removed. Load the URL again to download it afresh.`,
      );
    }
    blobs.push(blob);
  }
  return blobs;
}

/** A whole file's cached Blob (see cachedBlobs). */
export async function cachedBlob(url: string): Promise<Blob | undefined> {
  const b = await cachedBlobs(url);
  return b?.[0];
}

/** The size a server announces (HEAD), or 0 when it does not say. */
async function announcedSize(url: string, signal: AbortSignal): Promise<number> {
  try {
    const r = await fetch(url, { method: 'HEAD', signal, mode: 'cors' });
    return r.ok ? Number(r.headers.get('content-length') ?? 0) : 0;
  } catch {
    return 0;
  }
}

/**
 * Downloads every part of the model at `url` into the cache with one progress over all of them and
 * returns the cached Blobs in part order. On any failure (cancel, network, quota) the parts stored so
 * far are deleted.
 */
export async function downloadSetToCache(url: string, onProgress: (p: DownloadProgress) => void, signal: AbortSignal, freeBytes?: number): Promise<Blob[]> {
  const urls = partUrls(url);
  const sizes = urls.length > 1 ? await Promise.all(urls.map((u) => announcedSize(u, signal))) : [0];
  let total = sizes.every((s) => s > 0) ? sizes.reduce((a, b) => a + b, 0) : 0;
  if (total > 0 && freeBytes !== undefined && total > freeBytes) {
    throw new SparseScopeError(
      'storage',
      `${nameOf(url)} needs ${fmtMiB(total)} of browser storage to cache, and only ${fmtMiB(freeBytes)} is free. Free some space (delete downloaded models) or open the file from disk.`,
    );
  }
  const cache = await caches.open(CACHE);
  const started = performance.now();
  let before = 0;
  try {
    for (const u of urls) {
      const got = await downloadOne(cache, u, signal, (loaded, partTotal) => {
        const all = total || (urls.length === 1 ? partTotal : 0);
        const now = performance.now();
        const rate = (before + loaded) / Math.max(1e-3, (now - started) / 1000);
        onProgress({ loaded: before + loaded, total: all, bytesPerSecond: rate, secondsLeft: all ? (all - before - loaded) / rate : NaN });
      });
      before += got;
    }
  } catch (e) {
    await deleteCached(url).catch(() => undefined);
    throw e;
  }
  total = before;
  onProgress({ loaded: before, total, bytesPerSecond: 0, secondsLeft: 0 });
  const blobs = await cachedBlobs(url);
  if (!blobs) throw new SparseScopeError('storage', `The download of ${nameOf(url)} could not be stored (storage full or blocked).`);
  return blobs;
}

/** One file into the cache; returns its byte count. */
async function downloadOne(cache: Cache, url: string, signal: AbortSignal, onBytes: (loaded: number, total: number) => void): Promise<number> {
  let res: Response;
  try {
    res = await fetch(url, { signal, mode: 'cors' });
  } catch {
    if (signal.aborted) throw new SparseScopeError('aborted', 'Download cancelled.');
    throw new SparseScopeError('network', `Could not reach ${url}: the network is off, the host is down, or it does not allow cross-origin downloads.`);
  }
  if (!res.ok || !res.body) {
    const part = partUrls(url).length === 1 && parseSplitName(url.split(/[?#]/)[0]) ? ' (a part of a split set: is every part on the server?)' : '';
    throw new SparseScopeError('network', `Download of ${url} failed: HTTP ${res.status} ${res.statusText}${part}.`);
  }
  const total = Number(res.headers.get('content-length') ?? 0);
  let loaded = 0;
  let lastReport = 0;
  const counted = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, out) {
        loaded += chunk.byteLength;
        const now = performance.now();
        if (now - lastReport > 100) {
          lastReport = now;
          onBytes(loaded, total);
        }
        out.enqueue(chunk);
      },
    }),
  );
  // Cache Storage needs the headers before the body: record the announced size, check the count after.
  const headers = { 'content-type': 'application/octet-stream', [BYTES]: String(total), 'x-sparsescope-date': new Date().toISOString() };
  try {
    await cache.put(url, new Response(counted, { headers }));
  } catch (e) {
    if (signal.aborted) throw new SparseScopeError('aborted', 'Download cancelled.');
    if (isQuotaError(e)) {
      throw new SparseScopeError(
        'storage',
        `Browser storage is full: caching ${nameOf(url)} stopped after ${fmtMiB(loaded)}${total ? ` of ${fmtMiB(total)}` : ''}. Nothing of it was kept. Free some space (delete downloaded models) or open the file from disk.`,
      );
    }
    throw new SparseScopeError('network', `Download of ${url} broke off: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (total > 0 && loaded !== total) {
    throw new SparseScopeError('network', `Download of ${url} ended after ${loaded} of ${total} bytes.`);
  }
  if (total === 0) {
    // no Content-Length: store the counted size so a later change is still detected
    const stored = await cache.match(url);
    if (stored) await cache.put(url, new Response(await stored.blob(), { headers: { ...headers, [BYTES]: String(loaded) } }));
  }
  onBytes(loaded, total || loaded);
  return loaded;
}

/** A whole file (kept for callers of the single-file API). */
export async function downloadToCache(url: string, onProgress: (p: DownloadProgress) => void, signal: AbortSignal): Promise<Blob> {
  return (await downloadSetToCache(url, onProgress, signal))[0];
}

/** The cached models; a split set's parts are one entry (under part 1's URL). */
export async function listCached(): Promise<CachedModel[]> {
  if (!('caches' in self)) return [];
  const cache = await caches.open(CACHE);
  const byModel = new Map<string, CachedModel>();
  for (const req of await cache.keys()) {
    const res = await cache.match(req);
    let bytes = Number(res?.headers.get(BYTES) ?? 0);
    if (!bytes && res) bytes = (await res.blob()).size;
    const path = req.url.split(/[?#]/)[0];
    const s = parseSplitName(path);
    const key = s && s.count > 1 ? splitPartNames(req.url.replace(/-\d{5}-of-(\d{5})\.gguf/, '-00001-of-$1.gguf'), s.count)[0] : req.url;
    const m = byModel.get(key) ?? { url: key, name: nameOf(key), bytes: 0, parts: 0 };
    m.bytes += bytes;
    m.parts += 1;
    byModel.set(key, m);
  }
  return [...byModel.values()];
}

/** Deletes the model at `url`: every part of a split set. */
export async function deleteCached(url: string): Promise<void> {
  const cache = await caches.open(CACHE);
  for (const u of partUrls(url)) await cache.delete(u);
}

export async function freeStorage(): Promise<number | undefined> {
  const est = await navigator.storage?.estimate?.();
  return est?.quota !== undefined ? est.quota - (est.usage ?? 0) : undefined;
}
