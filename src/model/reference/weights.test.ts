/**
 * The CPU reference refuses a model whose f32 weights exceed the memory limit, before it reads or
 * allocates any tensor: on a sparse 11 GB V2-Lite-Chat-shaped file (data are holes); the limit from
 * SPARSESCOPE_CPU_MEMORY_LIMIT.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGguf, type GgufFile } from '../../gguf/reader.ts';
import { writeSparseGguf } from '../../gguf/write-file.ts';
import { q4kMix, shaped, v2LiteChatMetadata } from '../testing/v2-lite-shape.ts';
import { assertF32WeightsFit, loadReferenceModelData } from './weights.ts';

let dir: string;
let path: string;
let values: number;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-cpu-mem-'));
  path = join(dir, 'v2-lite-chat-shape.gguf');
  const metadata = v2LiteChatMetadata();
  const { infos } = shaped(metadata, q4kMix);
  values = infos.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
  await writeSparseGguf(path, { metadata, tensors: infos });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CPU backend memory refusal', () => {
  it('refuses before reading a tensor, naming what it needs and the limit', async () => {
    const f = await openGguf({ kind: 'path', path });
    let reads = 0;
    const spy: GgufFile = {
      ...f,
      readF32: async (n) => {
        reads++;
        return f.readF32(n);
      },
      readBytes: async (i, s, l) => {
        reads++;
        return f.readBytes(i, s, l);
      },
    };
    const e = await loadReferenceModelData(spy, { memoryLimitBytes: 8e9 }).catch((x: unknown) => x);
    await f.close();
    expect(e).toMatchObject({ code: 'out-of-memory' });
    const msg = (e as Error).message;
    expect(msg).toContain(`${values * 4} bytes`);
    expect(msg).toContain('8.00 GB');
    expect(reads).toBe(0);
  });

  it('SPARSESCOPE_CPU_MEMORY_LIMIT is the default limit', async () => {
    process.env.SPARSESCOPE_CPU_MEMORY_LIMIT = String(4e9);
    try {
      await expect(assertF32WeightsFit([{ shape: [1e9 + 1] }])).rejects.toMatchObject({ code: 'out-of-memory' });
      await expect(assertF32WeightsFit([{ shape: [1e9] }])).resolves.toBeUndefined();
    } finally {
      delete process.env.SPARSESCOPE_CPU_MEMORY_LIMIT;
    }
  });
});
