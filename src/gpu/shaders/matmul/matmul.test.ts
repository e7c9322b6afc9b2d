import { describe, expect, it } from 'vitest';
import { paramByteSize } from '../../params.ts';
import { MATVEC_PARAMS } from './matvec.ts';
import { MATMUL_PARAMS } from './matmul.ts';
import { matmulRef, gatherMatvecRef } from './matmul.ref.ts';

describe('matmul params and references', () => {
  it('packs the uniform blocks to 16-byte multiples', () => {
    // 26 four-byte fields (the MoE fusions' SHARED, ROUTE and NORM_OUT fields included) → 112
    expect(paramByteSize(MATVEC_PARAMS)).toBe(112);
    expect(paramByteSize(MATMUL_PARAMS)).toBe(32);
  });
  it('computes X · Wᵀ', () => {
    // W [2, 3] rows (1,2,3) and (0,1,0); X [1, 3] = (1,1,2).
    expect([...matmulRef(new Float32Array([1, 2, 3, 0, 1, 0]), new Float32Array([1, 1, 2]), 1, 3, 2)]).toEqual([9, 1]);
  });
  it('gathers experts per slot and shares x across xDiv slots', () => {
    // Two experts of one row of 2 values: e0 = (1, 0), e1 = (0, 1); two slots of one token.
    const y = gatherMatvecRef(new Float32Array([1, 0, 0, 1]), new Uint32Array([1, 0]), new Float32Array([3, 4]), 2, 1, 2, 2);
    expect([...y]).toEqual([4, 3]);
  });
});
