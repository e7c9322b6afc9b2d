import { describe, expect, it } from 'vitest';
import { allMatvecCandidates, chooseFastest, matvecCandidates, matvecClass, sizeBucket } from './tune.ts';
import { preferredMatvecVariant } from './matvec.ts';

describe('matvec tuning choices', () => {
  it('the fastest wins, but the default keeps its place within the noise margin', () => {
    expect(chooseFastest({ def: 10, a: 9.7, b: 12 }, 'def')).toBe('def'); // 3 % faster: noise
    expect(chooseFastest({ def: 10, a: 9, b: 8 }, 'def')).toBe('b');
    expect(chooseFastest({ a: 3, b: 2 }, 'missing')).toBe('b');
  });

  it('size buckets and class names', () => {
    expect(sizeBucket(1024, 1024)).toBe('S');
    expect(sizeBucket(2048, 2048)).toBe('M');
    expect(sizeBucket(4096, 4096)).toBe('L');
    expect(matvecClass('Q8_0', 4096, 4096)).toBe('matvec Q8_0 L');
  });

  it('the default variant is always among the candidates, and names are unique', () => {
    for (const software of [true, false]) {
      for (const hasSubgroups of [true, false]) {
        const c = matvecCandidates({ software, hasSubgroups });
        expect(new Set(c.map((x) => x.name)).size).toBe(c.length);
        for (const [k, n] of [
          [1024, 1024],
          [4096, 4096],
        ]) {
          const v = JSON.stringify(preferredMatvecVariant({ software, hasSubgroups }, k, n));
          expect(c.map((x) => JSON.stringify(x.variant))).toContain(v);
        }
      }
    }
    expect(allMatvecCandidates().length).toBeGreaterThanOrEqual(matvecCandidates({ software: true, hasSubgroups: true }).length);
  });
});
