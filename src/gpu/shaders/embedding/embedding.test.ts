import { describe, expect, it } from 'vitest';
import { paramByteSize } from '../../params.ts';
import { EMBEDDING_PARAMS } from './embedding.ts';
import { embeddingRef } from './embedding.ref.ts';

describe('embedding reference', () => {
  it('copies the rows named by the ids', () => {
    const table = new Float32Array([0, 1, 10, 11, 20, 21]); // [V 3, K 2]
    expect([...embeddingRef(table, [2, 0, 2], 2)]).toEqual([20, 21, 0, 1, 20, 21]);
    expect(paramByteSize(EMBEDDING_PARAMS)).toBe(32);
  });
});
