import { describe, expect, it } from 'vitest';
import { topkRef, NO_POSITION } from './dsa.ref.ts';

describe('top-k CPU reference', () => {
  it('keeps what llama.cpp keeps among ties and returns positions ascending', () => {
    expect(topkRef([1, 3, 3, 2, 3], 5, 2)).toEqual([1, 2]);
    expect(topkRef([5, 5, 5, 5], 4, 3)).toEqual([0, 1, 2]);
    // std::partial_sort's heap keeps position 1, not 0, of the tied zeros
    expect(topkRef([0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0], 12, 4)).toEqual([1, 4, 5, 6]);
  });
  it('pads with NO_POSITION when k exceeds the visible count', () => {
    expect(topkRef([1, 2], 2, 4)).toEqual([0, 1, NO_POSITION, NO_POSITION]);
  });
});
