/**
 * Random access to the bytes of a GGUF file, whatever holds it. Every read is bounded by the caller:
 * nothing ever loads the whole file. Offsets are numbers (exact to 2^53), so files over 4 GiB work.
 */
import { SparseScopeError } from '../errors.ts';

export interface ByteSource {
  /** Total file size in bytes. */
  readonly size: number;
  /** A short description for error messages ("model.gguf", "https://…"). */
  readonly label: string;
  /** Exactly `length` bytes from `offset`; callers guarantee offset + length ≤ size. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** A browser File or Blob: slices are lazy, only the requested range is read. */
export function blobSource(blob: Blob, label = (blob as File).name ?? 'blob'): ByteSource {
  return {
    size: blob.size,
    label,
    async read(offset, length) {
      const buf = new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
      if (buf.length !== length) {
        throw new SparseScopeError('truncated', `${label}: read ${buf.length} of ${length} bytes at offset ${offset}; the file changed or is truncated`);
      }
      return buf;
    },
    async close() {},
  };
}

/**
 * HTTP(S) with Range requests. The size comes from the Content-Range of a first 1-byte request;
 * a server that ignores Range (200 with the whole body) is refused rather than downloaded.
 */
export async function urlSource(url: string, fetchFn: typeof fetch = fetch): Promise<ByteSource> {
  const get = async (offset: number, length: number): Promise<Response> => {
    let res: Response;
    try {
      res = await fetchFn(url, { headers: { Range: `bytes=${offset}-${offset + length - 1}` } });
    } catch (e) {
      throw new SparseScopeError('network', `${url}: request failed (${(e as Error).message})`);
    }
    return res;
  };
  const first = await get(0, 1);
  const contentRange = first.headers.get('content-range') ?? '';
  const total = /\/\s*(\d+)\s*$/.exec(contentRange)?.[1];
  if (first.status === 416 && total === '0') {
    await first.body?.cancel();
    return { size: 0, label: url, read: async () => new Uint8Array(0), close: async () => {} };
  }
  if (first.status !== 206 || total === undefined) {
    await first.body?.cancel();
    throw new SparseScopeError(
      'network',
      `${url}: the server answered ${first.status}${first.status === 200 ? ' (it ignored the Range header)' : ''}; reading a GGUF over HTTP needs a server that supports Range requests (206 with Content-Range)`,
    );
  }
  await first.arrayBuffer();
  const size = Number(total);
  if (!Number.isSafeInteger(size)) throw new SparseScopeError('network', `${url}: unusable Content-Range "${contentRange}"`);
  return {
    size,
    label: url,
    async read(offset, length) {
      if (length === 0) return new Uint8Array(0);
      const res = await get(offset, length);
      if (res.status !== 206) {
        await res.body?.cancel();
        throw new SparseScopeError('network', `${url}: range ${offset}+${length} answered ${res.status}, expected 206`);
      }
      const buf = new Uint8Array(await res.arrayBuffer());
      if (buf.length !== length) {
        throw new SparseScopeError('truncated', `${url}: got ${buf.length} of ${length} bytes at offset ${offset}; the file changed or is truncated`);
      }
      return buf;
    },
    async close() {},
  };
}
