/**
 * Node only: a file on disk read through an fs.promises FileHandle, one positioned read per request.
 * Kept apart (and imported dynamically by the reader) so the browser bundle never imports `fs`.
 */
import { open } from 'node:fs/promises';
import { SparseScopeError } from '../errors.ts';
import type { ByteSource } from './byte-source.ts';

export async function pathSource(path: string): Promise<ByteSource> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw new SparseScopeError('bad-argument', `cannot open ${path}: ${(e as Error).message}`);
  }
  const { size } = await handle.stat();
  const h = handle;
  return {
    size,
    label: path,
    async read(offset, length) {
      const buf = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await h.read(buf, done, length - done, offset + done);
        if (bytesRead === 0) {
          throw new SparseScopeError('truncated', `${path}: read ${done} of ${length} bytes at offset ${offset}; the file changed or is truncated`);
        }
        done += bytesRead;
      }
      return buf;
    },
    async close() {
      await h.close();
    },
  };
}
