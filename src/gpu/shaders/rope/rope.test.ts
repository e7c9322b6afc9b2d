import { describe, expect, it } from 'vitest';
import { ropeRef, ropeCosSin, yarnCorrDims, type RopeParams } from './rope.ref.ts';

const plain: RopeParams = { nDims: 4, freqBase: 10000, freqScale: 1, extFactor: 0, attnFactor: 1, corrDims: [0, 0], neox: false };

describe('rope CPU reference', () => {
  it('rotates adjacent pairs by pos·base^(-2k/n)', () => {
    const x = ropeRef(new Float32Array([1, 0, 1, 0]), { rows: 1, heads: 1, rowStride: 4, headStride: 4, offset: 0 }, plain, 3);
    expect(x[0]).toBeCloseTo(Math.cos(3), 6);
    expect(x[1]).toBeCloseTo(Math.sin(3), 6);
    expect(x[2]).toBeCloseTo(Math.cos(3 / 100), 6);
    expect(x[3]).toBeCloseTo(Math.sin(3 / 100), 6);
  });
  it('NeoX pairs x[k] with x[k + n/2]', () => {
    const x = ropeRef(new Float32Array([1, 1, 0, 0]), { rows: 1, heads: 1, rowStride: 4, headStride: 4, offset: 0 }, { ...plain, neox: true }, 2);
    expect(x[0]).toBeCloseTo(Math.cos(2), 6);
    expect(x[2]).toBeCloseTo(Math.sin(2), 6);
    expect(x[1]).toBeCloseTo(Math.cos(2 / 100), 6);
  });
  it('YaRN: extrapolates high-frequency pairs, interpolates low ones, scales the magnitude', () => {
    const corr = yarnCorrDims(64, 4096, 10000, 32, 1);
    expect(corr[0]).toBeGreaterThanOrEqual(0);
    expect(corr[1]).toBeLessThanOrEqual(63);
    const p: RopeParams = { nDims: 64, freqBase: 10000, freqScale: 0.25, extFactor: 1, attnFactor: 1, corrDims: corr, neox: false };
    const mscale = 1 + 0.1 * Math.log(4);
    const [c0, s0] = ropeCosSin(5, 0, p); // k = 0 < corr0: pure extrapolation (theta = pos)
    expect(Math.hypot(c0, s0)).toBeCloseTo(mscale, 6);
    expect(Math.atan2(s0, c0)).toBeCloseTo(5 - 2 * Math.PI, 5);
    const [c1, s1] = ropeCosSin(5, 31, p); // k past corr1: pure interpolation (theta = pos·scale^31·freq_scale)
    expect(Math.atan2(s1, c1)).toBeCloseTo(5 * Math.pow(10000, -62 / 64) * 0.25, 5);
  });
});
