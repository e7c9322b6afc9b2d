import { describe, expect, it } from 'vitest';
import { cacheBytes, DEEPSEEK_V32, formatBytes } from './memory-model.ts';

describe('memory model', () => {
  it("matches docs/model-math.md's per-token figures for DeepSeek-V3.2", () => {
    const c = cacheBytes(DEEPSEEK_V32, 1, 1);
    expect(c.perTokenLayer.mla).toBe(576);
    expect(c.perTokenLayer.mha).toBe(40960);
    expect(c.perTokenLayer.indexKeys).toBe(128);
    expect(c.gqaGroups).toBe(8);
    expect(c.perTokenLayer.gqa).toBe(8 * 320);
    expect(c.perTokenLayer.mla / c.perTokenLayer.mha).toBeCloseTo(0.0141, 3);
  });

  it('scales with tokens, layers and bytes per value (V3.2 at 128K in bf16)', () => {
    const c = cacheBytes(DEEPSEEK_V32, 131072, 2);
    expect(c.mla).toBe(61 * 131072 * 576 * 2);
    expect(c.indexKeys).toBe(61 * 131072 * 128 * 2);
    expect(c.mha).toBe(61 * 131072 * 40960 * 2);
    expect(formatBytes(c.mla)).toBe('8.58 GiB');
  });

  it('has no index keys for a model without an indexer, and honours an explicit GQA group count', () => {
    const c = cacheBytes({ ...DEEPSEEK_V32, indexerDim: undefined, heads: 4 }, 10, 4, 2);
    expect(c.indexKeys).toBe(0);
    expect(c.gqaGroups).toBe(2);
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(12)).toBe('12 B');
  });
});
