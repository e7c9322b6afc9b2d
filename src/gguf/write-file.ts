/** Node only: writes serializeGguf's chunks to `path`, one chunk at a time (no big concatenation). */
import { open } from 'node:fs/promises';
import { serializeGguf, type GgufSpec } from './writer.ts';

export async function writeGgufFile(path: string, spec: GgufSpec): Promise<number> {
  const chunks = serializeGguf(spec);
  const h = await open(path, 'w');
  let written = 0;
  try {
    for (const c of chunks) {
      let o = 0;
      while (o < c.length) {
        const { bytesWritten } = await h.write(c, o, c.length - o);
        o += bytesWritten;
      }
      written += c.length;
    }
  } finally {
    await h.close();
  }
  return written;
}
