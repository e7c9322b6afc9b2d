/**
 * Downloaded models in Cache Storage: one progress figure (bytes, speed, time left), cancel by
 * AbortSignal, and a listing with sizes. Bytes are counted as they stream into the cache, never
 * buffered whole in memory, so multi-GB files work; the engine then reads the cached Blob by range.
 */
import { SparseScopeError } from '../../errors.ts';

const CACHE = 'sparsescope-models';

export interface CachedModel {
  url: string;
  name: string;
  bytes: number;
}

export interface DownloadProgress {
  loaded: number;
  total: number;
  bytesPerSecond: number;
  secondsLeft: number;
}

export const nameOf = (url: string) => decodeURIComponent(url.split(/[?#]/)[0].split('/').pop() || url);

export async function cachedBlob(url: string): Promise<Blob | undefined> {
  if (!('caches' in self)) return undefined;
  const hit = await (await caches.open(CACHE)).match(url);
  return hit ? hit.blob() : undefined;
}

export async function downloadToCache(url: string, onProgress: (p: DownloadProgress) => void, signal: AbortSignal): Promise<Blob> {
  let res: Response;
  try {
    res = await fetch(url, { signal, mode: 'cors' });
  } catch {
    if (signal.aborted) throw new SparseScopeError('aborted', 'Download cancelled.');
    throw new SparseScopeError('network', `Could not reach ${url}: the network is off, the host is down, or it does not allow cross-origin downloads.`);
  }
  if (!res.ok || !res.body) throw new SparseScopeError('network', `Download of ${url} failed: HTTP ${res.status} ${res.statusText}.`);
  const total = Number(res.headers.get('content-length') ?? 0);
  const started = performance.now();
  let loaded = 0;
  let lastReport = 0;
  const counted = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, out) {
        loaded += chunk.byteLength;
        const now = performance.now();
        if (now - lastReport > 100) {
          lastReport = now;
          const rate = loaded / Math.max(1e-3, (now - started) / 1000);
          onProgress({ loaded, total, bytesPerSecond: rate, secondsLeft: total ? (total - loaded) / rate : NaN });
        }
        out.enqueue(chunk);
      },
    }),
  );
  const headers = { 'content-type': 'application/octet-stream', 'x-sparsescope-bytes': String(total), 'x-sparsescope-date': new Date().toISOString() };
  const cache = await caches.open(CACHE);
  try {
    await cache.put(url, new Response(counted, { headers }));
  } catch (e) {
    if (signal.aborted) throw new SparseScopeError('aborted', 'Download cancelled.');
    throw new SparseScopeError('network', `Download of ${url} broke off: ${e instanceof Error ? e.message : String(e)}`);
  }
  onProgress({ loaded, total: total || loaded, bytesPerSecond: 0, secondsLeft: 0 });
  const blob = await cachedBlob(url);
  if (!blob) throw new SparseScopeError('network', `The download of ${url} could not be stored (storage full or blocked).`);
  return blob;
}

export async function listCached(): Promise<CachedModel[]> {
  if (!('caches' in self)) return [];
  const cache = await caches.open(CACHE);
  const out: CachedModel[] = [];
  for (const req of await cache.keys()) {
    const res = await cache.match(req);
    let bytes = Number(res?.headers.get('x-sparsescope-bytes') ?? 0);
    if (!bytes && res) bytes = (await res.blob()).size;
    out.push({ url: req.url, name: nameOf(req.url), bytes });
  }
  return out;
}

export async function deleteCached(url: string): Promise<void> {
  await (await caches.open(CACHE)).delete(url);
}

export async function freeStorage(): Promise<number | undefined> {
  const est = await navigator.storage?.estimate?.();
  return est?.quota !== undefined ? est.quota - (est.usage ?? 0) : undefined;
}
