/**
 * The WebAssembly SIMD decode dots against the naive f64 dot over the dequantized weights (the GGUF
 * codecs, bit-exact with ggml) and against the TypeScript kernels they replace: every row of a share,
 * grouped rows (MLA's per-head inputs), K not a multiple of 4 (F32's scalar tail), rows at odd
 * addresses, and results that do not depend on where a share starts. Also the assembler's own checks.
 */
import { describe, expect, it } from 'vitest';
import { dequantize, quantize } from '../../../gguf/codecs/index.ts';
import { GgmlType, typeName } from '../../../gguf/types.ts';
import { makeRowKernels, type RowJob } from '../kernels/row-kernels.ts';
import { createSimdArena, type SimdArena } from './simd-arena.ts';
import { simdModuleBytes } from './simd-kernels.ts';
import { assembleModule, WatError } from './wat.ts';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

const ts = makeRowKernels();

async function arena(sizes: number[], shared = false): Promise<SimdArena> {
  const a = await createSimdArena(sizes, shared, ts.f16);
  if ('reason' in a) throw new Error(a.reason);
  return a;
}

interface Case {
  type: number;
  K: number;
  rows: number;
}

/** weight bytes, their values, and x (a slice per group of 2 rows) in one arena; the SIMD and TS kernels both run a share. */
async function setup(c: Case, shared = false) {
  const r = rng(c.K * 31 + c.rows);
  const values0 = Float32Array.from({ length: c.K * c.rows }, () => 2 * r());
  const bytes0 = quantize(c.type, values0);
  const xTok = Math.ceil(c.rows / 2) * c.K + 7;
  const a = await arena([bytes0.byteLength + 4, 4 * (xTok + c.rows)], shared);
  // the weight at an address no multiple of 16 (odd for Q8_0, whose 34-byte blocks are never aligned)
  const skew = c.type === GgmlType.F32 ? 4 : 1;
  const wbytes = a.take(bytes0.byteLength + skew).subarray(skew);
  wbytes.set(bytes0);
  const Fbytes = a.take(4 * (xTok + c.rows));
  const F = new Float32Array(Fbytes.buffer, Fbytes.byteOffset, xTok + c.rows);
  for (let i = 0; i < xTok; i++) F[i] = r();
  const simd = makeRowKernels({ buffer: a.buffer, ex: a.exports });
  return {
    a,
    simd,
    F,
    xTok,
    values: dequantize(c.type, bytes0, c.K * c.rows),
    vSimd: simd.view(c.type, c.K, c.rows, wbytes),
    vTs: ts.view(c.type, c.K, c.rows, bytes0),
  };
}

describe('WebAssembly SIMD kernels', () => {
  it('assemble into a module this engine validates, shared and not', () => {
    expect(WebAssembly.validate(simdModuleBytes(false))).toBe(true);
    expect(WebAssembly.validate(simdModuleBytes(true))).toBe(true);
  });

  it('the assembler names what it cannot read', () => {
    const fn = (body: string) => [{ name: 'f', params: [['a', 'i32']] as [string, 'i32'][], locals: [], body }];
    const mem = { pages: 1, maxPages: 1, shared: false };
    expect(() => assembleModule(fn('local.get $a\ni32.popcnt\ndrop'), mem)).toThrow(/unknown instruction i32.popcnt/);
    expect(() => assembleModule(fn('local.get $b\ndrop'), mem)).toThrow(/unknown local \$b/);
    expect(() => assembleModule(fn('block $x\nbr $y\nend'), mem)).toThrow(/unknown label \$y/);
    expect(() => assembleModule(fn('block $x'), mem)).toThrow(WatError);
  });

  const cases: Case[] = [
    { type: GgmlType.Q8_0, K: 32, rows: 5 },
    { type: GgmlType.Q8_0, K: 768, rows: 9 },
    { type: GgmlType.Q4_K, K: 256, rows: 3 },
    { type: GgmlType.Q4_K, K: 768, rows: 5 },
    { type: GgmlType.Q6_K, K: 256, rows: 3 },
    { type: GgmlType.Q6_K, K: 512, rows: 5 },
    { type: GgmlType.Q5_0, K: 32, rows: 3 },
    { type: GgmlType.Q5_0, K: 1408, rows: 4 },
    { type: GgmlType.F32, K: 7, rows: 4 },
    { type: GgmlType.F32, K: 768, rows: 6 },
  ];
  for (const c of cases) {
    it(`${typeName(c.type)} K ${c.K}: every row = the naive dot, grouped inputs, shares from any row`, async () => {
      const { simd, F, xTok, values, vSimd, vTs } = await setup(c);
      expect(simd.simdRuns(vSimd)).toBe(true);
      expect(ts.simdRuns(vTs)).toBe(false);
      // groups of 2 rows, group g reading x at 1 + g·K (as MLA's attn_k_b heads read their query slice)
      const job = (r0: number, r1: number): RowJob => ({ r0, r1, rowOffset: 0, T: 1, xBase: 1, xTok, groupRows: 2, xGroup: c.K, yBase: xTok, yTok: c.rows });
      simd.runRows(vSimd, job(0, c.rows), F, F, new Float32Array(c.K));
      const got = F.slice(xTok);
      const Fts = F.slice();
      ts.runRows(vTs, job(0, c.rows), Fts, Fts, new Float32Array(c.K));
      for (let o = 0; o < c.rows; o++) {
        const xo = 1 + Math.floor(o / 2) * c.K;
        let s = 0,
          abs = 0;
        for (let i = 0; i < c.K; i++) {
          s += values[o * c.K + i] * F[xo + i];
          abs += Math.abs(values[o * c.K + i] * F[xo + i]);
        }
        // f32 accumulation in 4 lanes: within a few ulps of Σ|w·x|
        expect(Math.abs(got[o] - s)).toBeLessThanOrEqual(1e-6 * abs + 1e-30);
        expect(Math.abs(got[o] - Fts[xTok + o])).toBeLessThanOrEqual(2e-6 * abs + 1e-30);
      }
      // a share that starts mid-group computes the same values
      F.fill(0, xTok);
      simd.runRows(vSimd, job(1, c.rows), F, F, new Float32Array(c.K));
      expect(Array.from(F.slice(xTok + 1))).toEqual(Array.from(got.slice(1)));
    });
  }

  it('a chunk of tokens gives each token exactly its single-token value (cache blocks of rows)', async () => {
    // 300 rows of 768: several 32 KiB blocks; groups of 7 rows so blocks and groups interleave
    const c = { type: GgmlType.Q8_0, K: 768, rows: 300 };
    const T = 3;
    const r = rng(4);
    const bytes0 = quantize(
      c.type,
      Float32Array.from({ length: c.K * c.rows }, () => r()),
    );
    const groups = Math.ceil(c.rows / 7);
    const xTok = groups * c.K;
    const a = await arena([bytes0.byteLength, 4 * (T * xTok + T * c.rows)]);
    const wb = a.take(bytes0.byteLength);
    wb.set(bytes0);
    const Fb = a.take(4 * (T * xTok + T * c.rows));
    const F = new Float32Array(Fb.buffer, Fb.byteOffset, T * xTok + T * c.rows);
    for (let i = 0; i < T * xTok; i++) F[i] = r();
    const simd = makeRowKernels({ buffer: a.buffer, ex: a.exports });
    const v = simd.view(c.type, c.K, c.rows, wb);
    const job = (tokens: number, t0: number): RowJob => ({
      r0: 0,
      r1: c.rows,
      rowOffset: 0,
      T: tokens,
      xBase: t0 * xTok,
      xTok,
      groupRows: 7,
      xGroup: c.K,
      yBase: T * xTok,
      yTok: c.rows,
    });
    simd.runRows(v, job(T, 0), F, F, new Float32Array(c.K));
    const chunk = F.slice(T * xTok);
    for (let t = 0; t < T; t++) {
      F.fill(0, T * xTok);
      simd.runRows(v, job(1, t), F, F, new Float32Array(c.K));
      expect(Array.from(F.subarray(T * xTok, T * xTok + c.rows))).toEqual(Array.from(chunk.subarray(t * c.rows, (t + 1) * c.rows)));
    }
  });

  it('a shared memory runs the same as an unshared one; other types stay in TypeScript', async () => {
    const c = { type: GgmlType.Q8_0, K: 64, rows: 3 };
    const one = await setup(c, false);
    const two = await setup(c, true);
    expect(two.a.buffer).toBeInstanceOf(SharedArrayBuffer);
    for (const s of [one, two])
      s.simd.runRows(
        s.vSimd,
        { r0: 0, r1: 3, rowOffset: 0, T: 1, xBase: 0, xTok: s.xTok, groupRows: 3, xGroup: 0, yBase: s.xTok, yTok: 3 },
        s.F,
        s.F,
        new Float32Array(64),
      );
    expect(Array.from(two.F.slice(two.xTok))).toEqual(Array.from(one.F.slice(one.xTok)));
    const q5 = quantize(GgmlType.Q5_K, new Float32Array(256));
    const a = await arena([q5.byteLength]);
    const bytes = a.take(q5.byteLength);
    bytes.set(q5);
    expect(makeRowKernels({ buffer: a.buffer, ex: a.exports }).simdRuns(ts.view(GgmlType.Q5_K, 256, 1, bytes))).toBe(false);
  });

  it('refuses more than 4 GiB with a reason, before reserving anything', async () => {
    const r = await createSimdArena([2 ** 31, 2 ** 31], false, ts.f16);
    expect('reason' in r && r.reason).toMatch(/more than WebAssembly's 4 GiB memory/);
  });
});
