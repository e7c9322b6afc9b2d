/**
 * The row kernels against the GGUF codecs (src/gguf/codecs, bit-exact with ggml): decodeRow must
 * equal dequantize bit for bit; the fused dots and the chunked / grouped runRows must equal a naive
 * f64 dot over the dequantized values within f32 rounding (relative to Σ|w·x|).
 */
import { describe, expect, it } from 'vitest';
import { dequantize, quantize, SUPPORTED_CODEC_TYPES } from '../../../gguf/codecs/index.ts';
import { blockLayout, GgmlType, typeName } from '../../../gguf/types.ts';
import { randomBlocks, isRandomBlockType } from '../../../tools/fixture/random-blocks.ts';
import { makeRowKernels, type RowJob } from './row-kernels.ts';

const k = makeRowKernels();

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** rows × K random weights of `type` (random block bytes where the fixture has them, else the quantizer) */
function weight(type: number, K: number, rows: number, seed: number): { bytes: Uint8Array; values: Float32Array } {
  const r = rng(seed);
  const bytes = isRandomBlockType(type)
    ? randomBlocks(type, K * rows, 0.05, seed)
    : quantize(
        type,
        Float32Array.from({ length: K * rows }, () => r()),
      );
  // an aligned copy, as CpuModel makes
  const own = new Uint8Array(new ArrayBuffer(bytes.byteLength));
  own.set(bytes);
  return { bytes: own, values: dequantize(type, own, K * rows) };
}

const naive = (w: Float32Array, off: number, x: Float32Array, xOff: number, K: number) => {
  let s = 0,
    a = 0;
  for (let i = 0; i < K; i++) {
    s += w[off + i] * x[xOff + i];
    a += Math.abs(w[off + i] * x[xOff + i]);
  }
  return { s, a };
};

describe('row kernels', () => {
  it('read exactly the types the codecs support', () => {
    expect([...k.types].sort((a, b) => a - b)).toEqual([...SUPPORTED_CODEC_TYPES].sort((a, b) => a - b));
    expect(k.rowBytes(GgmlType.Q8_0, 100)).toBe(-1); // not a whole number of blocks
    expect(k.rowBytes(GgmlType.Q4_K, 96)).toBe(-1);
    expect(k.rowBytes(GgmlType.Q4_K, 512)).toBe(288);
  });

  for (const type of SUPPORTED_CODEC_TYPES) {
    const bs = blockLayout(type).blockSize;
    // K not a multiple of 256 where the type allows; an odd row count
    const K = bs === 256 ? 512 : bs === 32 ? 96 : 77;
    const rows = 7;
    it(`${typeName(type)}: decodeRow = dequantize bit for bit; dotRow and runRows = naive dot`, () => {
      const { bytes, values } = weight(type, K, rows, 11 + type);
      const v = k.view(type, K, rows, bytes);
      expect(v.rowBytes * rows).toBe(bytes.byteLength);
      const row = new Float32Array(K);
      for (let r = 0; r < rows; r++) {
        k.decodeRow(v, r, row);
        expect(Array.from(row)).toEqual(Array.from(values.subarray(r * K, (r + 1) * K)));
      }
      const rx = rng(5);
      const T = 3;
      const x = Float32Array.from({ length: T * (K + 5) }, () => rx());
      const scratch = new Float32Array(K);
      for (let r = 0; r < rows; r++) {
        const { s, a } = naive(values, r * K, x, 2, K);
        expect(Math.abs(k.dotRow(v, r, x, 2, scratch) - s)).toBeLessThanOrEqual(1e-6 * a + 1e-30);
      }
      // a chunk of T tokens (row decoded once) and T = 1 (fused), rows 2..6 of the weight
      for (const Tn of [1, T]) {
        const out = rows - 2;
        const F = new Float32Array(T * (K + 5) + Tn * out);
        F.set(x);
        const job: RowJob = { r0: 0, r1: out, rowOffset: 2, T: Tn, xBase: 2, xTok: K + 5, groupRows: out, xGroup: 0, yBase: T * (K + 5), yTok: out };
        k.runRows(v, job, F, F, scratch);
        for (let t = 0; t < Tn; t++) {
          for (let o = 0; o < out; o++) {
            const { s, a } = naive(values, (2 + o) * K, x, 2 + t * (K + 5), K);
            expect(Math.abs(F[job.yBase + t * out + o] - s)).toBeLessThanOrEqual(1e-6 * a + 1e-30);
          }
        }
      }
    });
  }

  it('grouped rows read their own input slice (MLA per-head sub-matrices)', () => {
    // 3 heads of 2 rows each over K = 64, each head reading x at 1 + h·70
    const K = 64,
      rows = 6,
      G = 2;
    const { bytes, values } = weight(GgmlType.Q8_0, K, rows, 3);
    const v = k.view(GgmlType.Q8_0, K, rows, bytes);
    const rx = rng(9);
    const xTok = 1 + 3 * 70;
    for (const T of [1, 2]) {
      const F = new Float32Array(T * xTok + T * rows);
      for (let i = 0; i < T * xTok; i++) F[i] = rx();
      const x = F.slice(0, T * xTok);
      const job: RowJob = { r0: 0, r1: rows, rowOffset: 0, T, xBase: 1, xTok, groupRows: G, xGroup: 70, yBase: T * xTok, yTok: rows };
      k.runRows(v, job, F, F, new Float32Array(K));
      for (let t = 0; t < T; t++) {
        for (let o = 0; o < rows; o++) {
          const { s, a } = naive(values, o * K, x, t * xTok + 1 + Math.floor(o / G) * 70, K);
          expect(Math.abs(F[job.yBase + t * rows + o] - s)).toBeLessThanOrEqual(1e-6 * a);
        }
      }
    }
  });
  it("a row's value does not depend on its neighbours: Q8_0 row pairs = dotRow, a token's dot = the same in chunks of 5 and 6", () => {
    const K = 96,
      rows = 9;
    const { bytes } = weight(GgmlType.Q8_0, K, rows, 21);
    const v = k.view(GgmlType.Q8_0, K, rows, bytes);
    const rx = rng(2);
    const x = Float32Array.from({ length: 6 * K }, () => rx());
    const scratch = new Float32Array(K);
    const run = (T: number, r0: number, r1: number) => {
      const F = new Float32Array(6 * K + T * rows);
      F.set(x);
      k.runRows(v, { r0, r1, rowOffset: 0, T, xBase: 0, xTok: K, groupRows: rows, xGroup: 0, yBase: 6 * K, yTok: rows }, F, F, scratch);
      return F.subarray(6 * K);
    };
    // shares starting at odd and even rows pair different neighbours
    const a = run(1, 0, rows),
      b = run(1, 1, rows);
    for (let r = 0; r < rows; r++) expect(a[r]).toBe(Math.fround(k.dotRow(v, r, x, 0, scratch)));
    for (let r = 1; r < rows; r++) expect(b[r]).toBe(a[r]);
    const c5 = run(5, 0, rows),
      c6 = run(6, 0, rows);
    expect(Array.from(c6.subarray(0, 5 * rows))).toEqual(Array.from(c5));
  });
});
