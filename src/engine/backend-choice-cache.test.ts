/** The Node cache of backend measurements: a round trip through the file, and failures that cost only a new measurement. */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileChoiceCache, memoryChoiceCache } from './backend-choice-cache.ts';

const t = { webgpuMs: 450, cpuMs: 60, threads: 2 };

describe('backend choice caches', () => {
  it('the file cache keeps entries across instances, beside each other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sparsescope-choice-cache-'));
    try {
      const path = join(dir, 'sub', 'backend-choice.json');
      await fileChoiceCache(fs, path).set('a', t);
      await fileChoiceCache(fs, path).set('b', { ...t, cpuMs: 1 });
      const again = fileChoiceCache(fs, path);
      expect(await again.get('a')).toEqual(t);
      expect((await again.get('b'))!.cpuMs).toBe(1);
      expect(await again.get('c')).toBeUndefined();
      // a corrupt file reads as empty, and is replaced by the next write
      writeFileSync(path, '{not json');
      expect(await again.get('a')).toBeUndefined();
      await again.set('a', t);
      expect(await fileChoiceCache(fs, path).get('a')).toEqual(t);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an unwritable place does not throw (the next load measures again)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sparsescope-choice-cache-'));
    try {
      writeFileSync(join(dir, 'file'), '');
      const c = fileChoiceCache(fs, join(dir, 'file', 'backend-choice.json'));
      await expect(c.set('a', t)).resolves.toBeUndefined();
      expect(await c.get('a')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the memory cache', async () => {
    const m = memoryChoiceCache();
    await m.set('k', t);
    expect(await m.get('k')).toEqual(t);
    expect(await m.get('x')).toBeUndefined();
  });
});
