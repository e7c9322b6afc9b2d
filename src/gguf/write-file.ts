/** Node only: writes serializeGguf's chunks to `path`, one chunk at a time (no big concatenation). */
import { open, truncate } from 'node:fs/promises';
import { splitPartName } from './split.ts';
import { serializeGguf, serializeGgufHeader, splitGgufSpec, type GgufSpec, type GgufTensorInfoSpec } from './writer.ts';

export async function writeGgufFile(path: string, spec: GgufSpec): Promise<number> {
  return writeChunks(path, serializeGguf(spec));
}

/**
 * Writes `spec` as a split set `<prefix>-00001-of-0000N.gguf` … (see splitGgufSpec); returns the
 * parts' paths in order (part 1 first: the one to open).
 */
export async function writeSplitGguf(prefix: string, spec: GgufSpec, parts: number): Promise<string[]> {
  const specs = splitGgufSpec(spec, parts);
  const paths: string[] = [];
  for (const [i, s] of specs.entries()) {
    const path = splitPartName(prefix, i + 1, parts);
    await writeChunks(path, serializeGguf(s));
    paths.push(path);
  }
  return paths;
}

async function writeChunks(path: string, chunks: Uint8Array[]): Promise<number> {
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

/**
 * A sparse GGUF: the header of `spec` written, the data section left as a hole up to the file's
 * full size (no disk used for it). Reading a tensor gives zeros; tests use it to prove a code path
 * reads no tensor data (a 10 GB file inspected in a blink). Returns the file's size.
 */
export async function writeSparseGguf(
  path: string,
  spec: { metadata: GgufSpec['metadata']; tensors: GgufTensorInfoSpec[]; alignment?: number },
): Promise<number> {
  const { header, fileSize } = serializeGgufHeader(spec);
  await writeChunks(path, [header]);
  await truncate(path, fileSize);
  return fileSize;
}
