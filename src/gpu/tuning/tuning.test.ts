import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adapterKey, sourceHash } from './adapter-key.ts';
import { memoryStore, validRecords, type TuningRecord } from './store.ts';
import { nodeFileStore } from './node-store.ts';
import { indexedDbStore } from './idb-store.ts';

const record = (kernelClass: string, choice: string): TuningRecord => ({
  kernelClass,
  choice,
  ms: { [choice]: 1, other: 2 },
  k: 64,
  n: 32,
  method: 'cpu',
  at: '2026-01-01T00:00:00.000Z',
});
const info = { vendor: 'mesa', architecture: 'llvmpipe', device: '', description: 'llvmpipe (LLVM 15)' };

describe('tuning cache', () => {
  it('keys differ by adapter, driver and kernel version, and survive a "|" in a name', () => {
    const a = adapterKey(info, 'dawn 1', 'k1');
    expect(adapterKey(info, 'dawn 2', 'k1')).not.toBe(a);
    expect(adapterKey(info, 'dawn 1', 'k2')).not.toBe(a);
    expect(adapterKey({ ...info, description: 'swiftshader' }, 'dawn 1', 'k1')).not.toBe(a);
    expect(adapterKey({ ...info, vendor: 'a|b' }, '', '').split('|')).toHaveLength(6);
    expect(sourceHash('x')).not.toBe(sourceHash('y'));
    expect(sourceHash('ab', 'c')).toBe(sourceHash('abc'));
  });

  it('the memory store hands back copies, not the records it holds', async () => {
    const s = memoryStore();
    expect(await s.load('a')).toBeUndefined();
    const r = { 'matvec Q8_0 L': record('matvec Q8_0 L', 'x') };
    await s.save('a', r);
    r['matvec Q8_0 L'].choice = 'changed';
    expect((await s.load('a'))?.['matvec Q8_0 L'].choice).toBe('x');
  });

  it('the file store keeps adapters apart and reads a corrupt file as empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tuning-'));
    try {
      const file = join(dir, 'sub', 'tuning.json');
      const s = nodeFileStore(file);
      expect(await s.load('a')).toBeUndefined();
      await s.save('a', { 'matvec Q4_K S': record('matvec Q4_K S', 'p') });
      await s.save('b', { 'matvec Q8_0 M': record('matvec Q8_0 M', 'q') });
      expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')))).toEqual(['a', 'b']);
      expect((await nodeFileStore(file).load('a'))?.['matvec Q4_K S'].choice).toBe('p');
      writeFileSync(file, '{ not json');
      expect(await s.load('a')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drops records of the wrong shape or filed under another class', () => {
    const good = record('matvec Q8_0 L', 'x');
    expect(validRecords({ 'matvec Q8_0 L': good, 'matvec Q4_K L': good, junk: 3 })).toEqual({ 'matvec Q8_0 L': good });
    expect(validRecords('nope')).toBeUndefined();
  });

  it('without IndexedDB the page store still works, in memory', async () => {
    const s = indexedDbStore(undefined);
    await s.save('a', { 'matvec Q8_0 L': record('matvec Q8_0 L', 'x') });
    expect((await s.load('a'))?.['matvec Q8_0 L'].choice).toBe('x');
  });
});
