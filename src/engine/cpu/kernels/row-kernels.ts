/**
 * The CPU backend's inner loops: dot products and matmuls straight over a weight's GGUF blocks, row
 * by row (a row = ne[0] = K values of one output), never materialising the weight as f32.
 *
 * Everything lives inside ONE self-contained factory, `makeRowKernels`, because the thread pool ships
 * its source text to Node workers (Function.prototype.toString, see ../pool/worker-source.ts): the
 * body must not reference anything outside itself (no imports, no module constants). The main thread
 * calls the very same function, so every thread runs identical code and a row's value never depends
 * on which thread computed it.
 *
 * Two paths per row:
 *   T = 1 (decode): a fused dot per type (Q8_0, Q4_K, Q5_K, Q6_K, Q5_0, Q4_0, F16, F32): Σ_block d·Σ q·x, the
 *         block scale hoisted out of the inner loop (differs from dequantize-then-dot by f32 rounding);
 *   T > 1 (prefill chunk): the row is decoded ONCE into a K-float scratch (bit-exact with the GGUF
 *         codecs, src/gguf/codecs) and dotted with each of the T token inputs, so each weight row is
 *         read once per chunk instead of once per token.
 * With a SimdBinding, Q8_0 / Q4_K / Q6_K / Q5_0 / F32 weights take neither: their shares run in the
 * WebAssembly SIMD kernels (../wasm/simd-kernels.ts), for one token or a chunk (simdRows).
 */

import type { SimdExports } from '../wasm/simd-kernels.ts';

/** A weight as the kernels see it: its block bytes (shared with workers when threaded) and views on them. */
export interface WeightView {
  /** ggml type id */
  type: number;
  /** values per row (ne[0]) */
  K: number;
  /** rows (product of ne[1..]) */
  rows: number;
  /** bytes per row */
  rowBytes: number;
  u8: Uint8Array;
  i8: Int8Array;
  /** F16/BF16 only (2-byte aligned buffer) */
  u16: Uint16Array | null;
  /** F32 only (4-byte aligned buffer) */
  f32: Float32Array | null;
}

/**
 * One matmul share: for output rows o in [r0, r1) and tokens t < T,
 *   Y[yBase + t·yTok + o] = Σ_i W[rowOffset + o][i] · X[xBase + t·xTok + ⌊o / groupRows⌋·xGroup + i]
 * groupRows/xGroup let one job cover per-head sub-matrices whose input differs per head (MLA's
 * attn_k_b / attn_v_b: head h's rows h·L.. read the query's head-h slice).
 */
export interface RowJob {
  r0: number;
  r1: number;
  rowOffset: number;
  T: number;
  xBase: number;
  xTok: number;
  groupRows: number;
  xGroup: number;
  yBase: number;
  yTok: number;
}

export interface RowKernels {
  /** ggml type ids these kernels read */
  readonly types: readonly number[];
  /** bytes of one row of K values, or -1 when K is not a whole number of blocks / the type is unknown */
  rowBytes(type: number, K: number): number;
  view(type: number, K: number, rows: number, bytes: Uint8Array): WeightView;
  /** row `r`'s K values, bit-exact with the GGUF codecs' dequantize, into out[0..K) */
  decodeRow(w: WeightView, r: number, out: Float32Array): void;
  /** Σ_i W[r][i] · x[xOff + i] (fused: no decoded row) */
  dotRow(w: WeightView, r: number, x: Float32Array, xOff: number, scratch: Float32Array): number;
  runRows(w: WeightView, job: RowJob, X: Float32Array, Y: Float32Array, scratch: Float32Array): void;
  /** the 65,536 f16 bit patterns as f32 (the SIMD arena copies it to the address its kernels read) */
  readonly f16: Float32Array;
  /** whether this weight's shares run in WebAssembly SIMD (a type with a SIMD kernel; its bytes in the SIMD memory, or rows that fit the staging block) */
  simdRuns(w: WeightView): boolean;
}

/**
 * The WebAssembly SIMD kernels (../wasm/simd-kernels.ts) of this thread's instance, and the buffer of
 * the memory they address: weights and scratch viewed on exactly this buffer run there. With `staging`
 * (this thread's STAGING_BYTES at that address), weights outside the memory (a model over its limit, or
 * a memory of the model's size refused) run there too, copied in a block of rows at a time; the scratch
 * must be inside.
 */
export interface SimdBinding {
  buffer: ArrayBufferLike;
  ex: SimdExports;
  staging?: number;
}

/** Bytes of one thread's staging block (a weight whose row is longer runs in TypeScript). */
export const STAGING_BYTES = 65536;

export function makeRowKernels(simd?: SimdBinding): RowKernels {
  // ggml type ids (src/gguf/types.ts GgmlType; repeated here because this body must be self-contained)
  const F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8;
  const Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    BF16 = 30;
  // [values per block, bytes per block]
  const LAYOUT: Record<number, [number, number]> = {
    [F32]: [1, 4],
    [F16]: [1, 2],
    [BF16]: [1, 2],
    [Q4_0]: [32, 18],
    [Q4_1]: [32, 20],
    [Q5_0]: [32, 22],
    [Q5_1]: [32, 24],
    [Q8_0]: [32, 34],
    [Q2_K]: [256, 84],
    [Q3_K]: [256, 110],
    [Q4_K]: [256, 144],
    [Q5_K]: [256, 176],
    [Q6_K]: [256, 210],
  };

  // f16 bits → f32 (exact), 64k entries
  const H = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    H[h] = exp === 0 ? sign * mant * 2 ** -24 : exp === 31 ? (mant === 0 ? sign * Infinity : NaN) : sign * (1024 + mant) * 2 ** (exp - 25);
  }
  const bfU32 = new Uint32Array(1);
  const bfF32 = new Float32Array(bfU32.buffer);
  const bf16 = (h: number) => {
    bfU32[0] = h << 16;
    return bfF32[0];
  };
  const f = Math.fround;
  const i8of = (b: number) => (b << 24) >> 24;

  function rowBytes(type: number, K: number): number {
    const l = LAYOUT[type];
    if (l === undefined || K <= 0 || K % l[0] !== 0) return -1;
    return (K / l[0]) * l[1];
  }

  function view(type: number, K: number, rows: number, bytes: Uint8Array): WeightView {
    const u16 = type === F16 || type === BF16 ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 1) : null;
    const f32 = type === F32 ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2) : null;
    return { type, K, rows, rowBytes: rowBytes(type, K), u8: bytes, i8: new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), u16, f32 };
  }

  // K-quant 6-bit scale and min of sub-block j (ggml's get_scale_min_k4); s = offset of scales[12]
  function scK4(b: Uint8Array, s: number, j: number): number {
    return j < 4 ? b[s + j] & 63 : (b[s + j + 4] & 0xf) | ((b[s + j - 4] >> 6) << 4);
  }
  function mK4(b: Uint8Array, s: number, j: number): number {
    return j < 4 ? b[s + j + 4] & 63 : (b[s + j + 4] >> 4) | ((b[s + j] >> 6) << 4);
  }
  // Q3_K's sixteen 6-bit signed scales
  const q3sc = new Int32Array(16);
  function q3Scales(b: Uint8Array, o: number): void {
    const s = o + 96;
    for (let j = 0; j < 16; j++) {
      const low = j < 8 ? b[s + j] & 0xf : b[s + j - 8] >> 4;
      const high = (b[s + 8 + (j % 4)] >> (2 * (j >> 2))) & 3;
      q3sc[j] = (low | (high << 4)) - 32;
    }
  }

  /** Decodes one row (same expressions, hence same f32 roundings, as src/gguf/codecs); one small function per type, so each stays monomorphic. */
  function decF32(w: WeightView, r: number, y: Float32Array): void {
    y.set(w.f32!.subarray(r * w.K, (r + 1) * w.K));
  }
  function decF16(w: WeightView, r: number, y: Float32Array): void {
    const u = w.u16!;
    const K = w.K;
    const base = r * K;
    for (let i = 0; i < K; i++) y[i] = H[u[base + i]];
  }
  function decBF16(w: WeightView, r: number, y: Float32Array): void {
    const u = w.u16!;
    const K = w.K;
    const base = r * K;
    for (let i = 0; i < K; i++) y[i] = bf16(u[base + i]);
  }
  function decQ8_0(w: WeightView, r: number, y: Float32Array): void {
    const b = w.u8;
    const K = w.K;
    let o = r * w.rowBytes;
    for (let i = 0; i < K; i += 32, o += 34) {
      const d = H[b[o] | (b[o + 1] << 8)];
      for (let j = 0; j < 32; j++) y[i + j] = i8of(b[o + 2 + j]) * d;
    }
  }
  function decQ4_0(w: WeightView, r: number, y: Float32Array): void {
    const b = w.u8;
    const K = w.K;
    let o = r * w.rowBytes;
    for (let i = 0; i < K; i += 32, o += 18) {
      const d = H[b[o] | (b[o + 1] << 8)];
      for (let j = 0; j < 16; j++) {
        const q = b[o + 2 + j];
        y[i + j] = ((q & 0x0f) - 8) * d;
        y[i + j + 16] = ((q >> 4) - 8) * d;
      }
    }
  }
  function decQ4_1(w: WeightView, r: number, y: Float32Array): void {
    const b = w.u8;
    const K = w.K;
    let o = r * w.rowBytes;
    for (let i = 0; i < K; i += 32, o += 20) {
      const d = H[b[o] | (b[o + 1] << 8)];
      const m = H[b[o + 2] | (b[o + 3] << 8)];
      for (let j = 0; j < 16; j++) {
        const q = b[o + 4 + j];
        y[i + j] = f((q & 0x0f) * d) + m;
        y[i + j + 16] = f((q >> 4) * d) + m;
      }
    }
  }
  function decQ5_0(w: WeightView, r: number, y: Float32Array): void {
    const b = w.u8;
    const K = w.K;
    let o = r * w.rowBytes;
    for (let i = 0; i < K; i += 32, o += 22) {
      const d = H[b[o] | (b[o + 1] << 8)];
      const qh = (b[o + 2] | (b[o + 3] << 8) | (b[o + 4] << 16) | (b[o + 5] << 24)) >>> 0;
      for (let j = 0; j < 16; j++) {
        const q = b[o + 6 + j];
        y[i + j] = (((q & 0x0f) | (((qh >>> j) & 1) << 4)) - 16) * d;
        y[i + j + 16] = (((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16) * d;
      }
    }
  }
  function decQ5_1(w: WeightView, r: number, y: Float32Array): void {
    const b = w.u8;
    const K = w.K;
    let o = r * w.rowBytes;
    for (let i = 0; i < K; i += 32, o += 24) {
      const d = H[b[o] | (b[o + 1] << 8)];
      const m = H[b[o + 2] | (b[o + 3] << 8)];
      const qh = (b[o + 4] | (b[o + 5] << 8) | (b[o + 6] << 16) | (b[o + 7] << 24)) >>> 0;
      for (let j = 0; j < 16; j++) {
        const q = b[o + 8 + j];
        y[i + j] = f(((q & 0x0f) | (((qh >>> j) & 1) << 4)) * d) + m;
        y[i + j + 16] = f(((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) * d) + m;
      }
    }
  }
  function decQ2_K(w: WeightView, r: number, y: Float32Array): void {
    const b = w.u8;
    const K = w.K;
    let o = r * w.rowBytes;
    for (let yi = 0; yi < K; o += 84) {
      const d = H[b[o + 80] | (b[o + 81] << 8)];
      const min = H[b[o + 82] | (b[o + 83] << 8)];
      let is = 0;
      for (let q = o + 16; q < o + 80; q += 32) {
        for (let shift = 0; shift < 8; shift += 2) {
          for (let half = 0; half < 32; half += 16) {
            const sc = b[o + is++];
            const dl = f(d * (sc & 0xf));
            const ml = f(min * (sc >> 4));
            for (let l = 0; l < 16; l++) y[yi++] = f(dl * ((b[q + half + l] >> shift) & 3)) - ml;
          }
        }
      }
    }
  }
  function decQ3_K(w: WeightView, r: number, y: Float32Array): void {
    const b = w.u8;
    const K = w.K;
    let o = r * w.rowBytes;
    for (let yi = 0; yi < K; o += 110) {
      const dAll = H[b[o + 108] | (b[o + 109] << 8)];
      q3Scales(b, o);
      // hmask bit `bit` set: +0, clear: -4 (computed, not branched on: see Q5_K)
      let bit = 0;
      let is = 0;
      for (let q = o + 32; q < o + 96; q += 32) {
        for (let shift = 0; shift < 8; shift += 2, bit++) {
          for (let half = 0; half < 32; half += 16) {
            const dl = f(dAll * q3sc[is++]);
            for (let l = 0; l < 16; l++) y[yi++] = dl * (((b[q + half + l] >> shift) & 3) - ((~(b[o + half + l] >> bit) & 1) << 2));
          }
        }
      }
    }
  }
  function decQ4_K(w: WeightView, r: number, y: Float32Array): void {
    const b = w.u8;
    const K = w.K;
    let o = r * w.rowBytes;
    for (let yi = 0; yi < K; o += 144) {
      const d = H[b[o] | (b[o + 1] << 8)];
      const min = H[b[o + 2] | (b[o + 3] << 8)];
      let q = o + 16;
      for (let is = 0; is < 8; is += 2, q += 32) {
        const d1 = f(d * scK4(b, o + 4, is)),
          m1 = f(min * mK4(b, o + 4, is));
        const d2 = f(d * scK4(b, o + 4, is + 1)),
          m2 = f(min * mK4(b, o + 4, is + 1));
        for (let l = 0; l < 32; l++) y[yi++] = f(d1 * (b[q + l] & 0xf)) - m1;
        for (let l = 0; l < 32; l++) y[yi++] = f(d2 * (b[q + l] >> 4)) - m2;
      }
    }
  }
  function decQ5_K(w: WeightView, r: number, y: Float32Array): void {
    const b = w.u8;
    const K = w.K;
    let o = r * w.rowBytes;
    for (let yi = 0; yi < K; o += 176) {
      const d = H[b[o] | (b[o + 1] << 8)];
      const min = H[b[o + 2] | (b[o + 3] << 8)];
      const qh = o + 16;
      let ql = o + 48;
      // the fifth bit of sub-block is comes from bit `is` of qh[l]: shifted, not tested (a branch on
      // random bits mispredicts half the time: 4× slower)
      for (let is = 0; is < 8; is += 2, ql += 32) {
        const d1 = f(d * scK4(b, o + 4, is)),
          m1 = f(min * mK4(b, o + 4, is));
        const d2 = f(d * scK4(b, o + 4, is + 1)),
          m2 = f(min * mK4(b, o + 4, is + 1));
        for (let l = 0; l < 32; l++) y[yi++] = f(d1 * ((b[ql + l] & 0xf) + (((b[qh + l] >> is) & 1) << 4))) - m1;
        for (let l = 0; l < 32; l++) y[yi++] = f(d2 * ((b[ql + l] >> 4) + (((b[qh + l] >> (is + 1)) & 1) << 4))) - m2;
      }
    }
  }
  function decQ6_K(w: WeightView, r: number, y: Float32Array): void {
    const b = w.u8;
    const K = w.K;
    let o = r * w.rowBytes;
    for (let yo = 0; yo < K; o += 210) {
      const d = H[b[o + 208] | (b[o + 209] << 8)];
      for (let half = 0; half < 2; half++, yo += 128) {
        const ql = o + 64 * half;
        const qh = o + 128 + 32 * half;
        const sc = o + 192 + 8 * half;
        for (let l = 0; l < 32; l++) {
          const is = l >> 4;
          const h = b[qh + l];
          y[yo + l] = f(d * i8of(b[sc + is])) * (((b[ql + l] & 0xf) | ((h & 3) << 4)) - 32);
          y[yo + l + 32] = f(d * i8of(b[sc + is + 2])) * (((b[ql + l + 32] & 0xf) | (((h >> 2) & 3) << 4)) - 32);
          y[yo + l + 64] = f(d * i8of(b[sc + is + 4])) * (((b[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32);
          y[yo + l + 96] = f(d * i8of(b[sc + is + 6])) * (((b[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32);
        }
      }
    }
  }
  const DECODERS: Record<number, (w: WeightView, r: number, y: Float32Array) => void> = {
    [F32]: decF32,
    [F16]: decF16,
    [BF16]: decBF16,
    [Q8_0]: decQ8_0,
    [Q4_0]: decQ4_0,
    [Q4_1]: decQ4_1,
    [Q5_0]: decQ5_0,
    [Q5_1]: decQ5_1,
    [Q2_K]: decQ2_K,
    [Q3_K]: decQ3_K,
    [Q4_K]: decQ4_K,
    [Q5_K]: decQ5_K,
    [Q6_K]: decQ6_K,
  };
  function decodeRow(w: WeightView, r: number, y: Float32Array): void {
    const fn = DECODERS[w.type];
    if (fn === undefined) throw new Error(`row kernels: no decoder for ggml type ${w.type}`);
    fn(w, r, y);
  }

  /** Σ_i a[aOff + i] · x[xOff + i], four products per step */
  function dotF32(a: Float32Array, aOff: number, x: Float32Array, xOff: number, n: number): number {
    let s = 0;
    let i = 0;
    for (; i + 4 <= n; i += 4)
      s += a[aOff + i] * x[xOff + i] + a[aOff + i + 1] * x[xOff + i + 1] + a[aOff + i + 2] * x[xOff + i + 2] + a[aOff + i + 3] * x[xOff + i + 3];
    for (; i < n; i++) s += a[aOff + i] * x[xOff + i];
    return s;
  }

  function dotRow(w: WeightView, r: number, x: Float32Array, xo: number, scratch: Float32Array): number {
    const b = w.u8;
    const K = w.K;
    let o = r * w.rowBytes;
    let s = 0;
    switch (w.type) {
      case F32:
        return dotF32(w.f32!, r * K, x, xo, K);
      case F16: {
        const u = w.u16!;
        const base = r * K;
        let i = 0;
        for (; i + 4 <= K; i += 4)
          s += H[u[base + i]] * x[xo + i] + H[u[base + i + 1]] * x[xo + i + 1] + H[u[base + i + 2]] * x[xo + i + 2] + H[u[base + i + 3]] * x[xo + i + 3];
        for (; i < K; i++) s += H[u[base + i]] * x[xo + i];
        return s;
      }
      case Q8_0: {
        const q = w.i8;
        for (let i = 0; i < K; i += 32, o += 34) {
          const d = H[b[o] | (b[o + 1] << 8)];
          const p = o + 2;
          const xi = xo + i;
          let a = 0;
          for (let j = 0; j < 32; j += 4)
            a += q[p + j] * x[xi + j] + q[p + j + 1] * x[xi + j + 1] + q[p + j + 2] * x[xi + j + 2] + q[p + j + 3] * x[xi + j + 3];
          s += d * a;
        }
        return s;
      }
      case Q4_0: {
        for (let i = 0; i < K; i += 32, o += 18) {
          const d = H[b[o] | (b[o + 1] << 8)];
          const xi = xo + i;
          let a = 0;
          for (let j = 0; j < 16; j++) {
            const v = b[o + 2 + j];
            a += ((v & 0x0f) - 8) * x[xi + j] + ((v >> 4) - 8) * x[xi + j + 16];
          }
          s += d * a;
        }
        return s;
      }
      case Q5_0: {
        for (let i = 0; i < K; i += 32, o += 22) {
          const d = H[b[o] | (b[o + 1] << 8)];
          const qh = (b[o + 2] | (b[o + 3] << 8) | (b[o + 4] << 16) | (b[o + 5] << 24)) >>> 0;
          const xi = xo + i;
          let a = 0;
          for (let j = 0; j < 16; j++) {
            const v = b[o + 6 + j];
            a += (((v & 0x0f) | (((qh >>> j) & 1) << 4)) - 16) * x[xi + j] + (((v >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16) * x[xi + j + 16];
          }
          s += d * a;
        }
        return s;
      }
      case Q4_K:
        return dotQ4K(w, r, x, xo, sums32(x, xo, K));
      case Q5_K:
        return dotQ5K(w, r, x, xo, sums32(x, xo, K));
      case Q6_K: {
        const sc8 = w.i8;
        for (let xi = xo; xi < xo + K; o += 210) {
          const d = H[b[o + 208] | (b[o + 209] << 8)];
          for (let half = 0; half < 2; half++, xi += 128) {
            const ql = o + 64 * half;
            const qh = o + 128 + 32 * half;
            const sc = o + 192 + 8 * half;
            // 16-value groups: (l < 16, l ≥ 16) × (the four 32-value quarters)
            for (let g = 0; g < 2; g++) {
              let a0 = 0,
                a1 = 0,
                a2 = 0,
                a3 = 0;
              for (let l = 16 * g; l < 16 * g + 16; l++) {
                const h = b[qh + l];
                const lo = b[ql + l];
                const hi = b[ql + l + 32];
                a0 += (((lo & 0xf) | ((h & 3) << 4)) - 32) * x[xi + l];
                a1 += (((hi & 0xf) | (((h >> 2) & 3) << 4)) - 32) * x[xi + l + 32];
                a2 += (((lo >> 4) | (((h >> 4) & 3) << 4)) - 32) * x[xi + l + 64];
                a3 += (((hi >> 4) | (((h >> 6) & 3) << 4)) - 32) * x[xi + l + 96];
              }
              s += d * (sc8[sc + g] * a0 + sc8[sc + g + 2] * a1 + sc8[sc + g + 4] * a2 + sc8[sc + g + 6] * a3);
            }
          }
        }
        return s;
      }
      default:
        // the rarer types: decode the row, then dot
        decodeRow(w, r, scratch);
        return dotF32(scratch, 0, x, xo, K);
    }
  }

  // Σ x over each 32-value sub-block of the input: the K-quants' min term (dmin·m·Σx) is the same for every row
  let xsum = new Float64Array(0);
  function sums32(x: Float32Array, xo: number, K: number): Float64Array {
    if (xsum.length < K >> 5) xsum = new Float64Array(K >> 5);
    for (let bi = 0, i = xo; bi < K >> 5; bi++, i += 32) {
      let a = 0;
      for (let l = 0; l < 32; l += 4) a += x[i + l] + x[i + l + 1] + x[i + l + 2] + x[i + l + 3];
      xsum[bi] = a;
    }
    return xsum;
  }

  /** Q4_K: value = d·sc·q - dmin·m per sub-block of 32, so Σ v·x = d·sc·Σ q·x - dmin·m·Σ x (xs: sums32 of x) */
  function dotQ4K(w: WeightView, r: number, x: Float32Array, xo: number, xs: Float64Array): number {
    const b = w.u8;
    const K = w.K;
    let o = r * w.rowBytes;
    let s = 0;
    for (let xi = xo, bi = 0; xi < xo + K; o += 144) {
      const d = H[b[o] | (b[o + 1] << 8)];
      const min = H[b[o + 2] | (b[o + 3] << 8)];
      let q = o + 16;
      for (let is = 0; is < 8; is += 2, q += 32, xi += 64, bi += 2) {
        let a1 = 0,
          a2 = 0;
        for (let l = 0; l < 32; l += 4) {
          const v0 = b[q + l],
            v1 = b[q + l + 1],
            v2 = b[q + l + 2],
            v3 = b[q + l + 3];
          a1 += (v0 & 0xf) * x[xi + l] + (v1 & 0xf) * x[xi + l + 1] + (v2 & 0xf) * x[xi + l + 2] + (v3 & 0xf) * x[xi + l + 3];
          a2 += (v0 >> 4) * x[xi + l + 32] + (v1 >> 4) * x[xi + l + 33] + (v2 >> 4) * x[xi + l + 34] + (v3 >> 4) * x[xi + l + 35];
        }
        s += d * (scK4(b, o + 4, is) * a1 + scK4(b, o + 4, is + 1) * a2) - min * (mK4(b, o + 4, is) * xs[bi] + mK4(b, o + 4, is + 1) * xs[bi + 1]);
      }
    }
    return s;
  }

  /** Q5_K: as Q4_K with a fifth bit per value from qh (bit `is` / `is + 1` of qh[l] for the two sub-blocks) */
  function dotQ5K(w: WeightView, r: number, x: Float32Array, xo: number, xs: Float64Array): number {
    const b = w.u8;
    const K = w.K;
    let o = r * w.rowBytes;
    let s = 0;
    for (let xi = xo, bi = 0; xi < xo + K; o += 176) {
      const d = H[b[o] | (b[o + 1] << 8)];
      const min = H[b[o + 2] | (b[o + 3] << 8)];
      const qh = o + 16;
      let ql = o + 48;
      for (let is = 0; is < 8; is += 2, ql += 32, xi += 64, bi += 2) {
        let a1 = 0,
          a2 = 0;
        for (let l = 0; l < 32; l++) {
          const v = b[ql + l];
          const h = b[qh + l];
          a1 += ((v & 0xf) + (((h >> is) & 1) << 4)) * x[xi + l];
          a2 += ((v >> 4) + (((h >> (is + 1)) & 1) << 4)) * x[xi + l + 32];
        }
        s += d * (scK4(b, o + 4, is) * a1 + scK4(b, o + 4, is + 1) * a2) - min * (mK4(b, o + 4, is) * xs[bi] + mK4(b, o + 4, is + 1) * xs[bi + 1]);
      }
    }
    return s;
  }

  /** Q8_0, two rows sharing the x loads; each row's sum in exactly dotRow's order (so pairing never changes a value). */
  function dotQ8_0Pair(w: WeightView, r: number, x: Float32Array, xo: number, Y: Float32Array, yo: number): void {
    const b = w.u8;
    const q = w.i8;
    const K = w.K;
    let o = r * w.rowBytes;
    let o2 = o + w.rowBytes;
    let s = 0,
      s2 = 0;
    for (let i = 0; i < K; i += 32, o += 34, o2 += 34) {
      const d = H[b[o] | (b[o + 1] << 8)];
      const d2 = H[b[o2] | (b[o2 + 1] << 8)];
      const p = o + 2,
        p2 = o2 + 2;
      const xi = xo + i;
      let a = 0,
        a2 = 0;
      for (let j = 0; j < 32; j += 4) {
        const x0 = x[xi + j],
          x1 = x[xi + j + 1],
          x2 = x[xi + j + 2],
          x3 = x[xi + j + 3];
        a += q[p + j] * x0 + q[p + j + 1] * x1 + q[p + j + 2] * x2 + q[p + j + 3] * x3;
        a2 += q[p2 + j] * x0 + q[p2 + j + 1] * x1 + q[p2 + j + 2] * x2 + q[p2 + j + 3] * x3;
      }
      s += d * a;
      s2 += d2 * a2;
    }
    Y[yo] = s;
    Y[yo + 1] = s2;
  }

  let second = new Float32Array(0);
  /** Rows o and o+1 of a chunk (same input): both decoded once, each dotted with every token, 2 rows × 4 tokens per pass. */
  function chunkPair(w: WeightView, j: RowJob, o: number, xo: number, X: Float32Array, Y: Float32Array, ra: Float32Array): void {
    const K = w.K;
    const T = j.T;
    if (second.length < K) second = new Float32Array(K);
    const rb = second;
    decodeRow(w, j.rowOffset + o, ra);
    decodeRow(w, j.rowOffset + o + 1, rb);
    let t = 0;
    for (; t + 4 <= T; t += 4) {
      const b0 = xo + t * j.xTok,
        b1 = b0 + j.xTok,
        b2 = b1 + j.xTok,
        b3 = b2 + j.xTok;
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0,
        u0 = 0,
        u1 = 0,
        u2 = 0,
        u3 = 0;
      for (let i = 0; i < K; i++) {
        const va = ra[i],
          vb = rb[i];
        const x0 = X[b0 + i],
          x1 = X[b1 + i],
          x2 = X[b2 + i],
          x3 = X[b3 + i];
        s0 += va * x0;
        s1 += va * x1;
        s2 += va * x2;
        s3 += va * x3;
        u0 += vb * x0;
        u1 += vb * x1;
        u2 += vb * x2;
        u3 += vb * x3;
      }
      const yo = j.yBase + t * j.yTok + o;
      Y[yo] = s0;
      Y[yo + 1] = u0;
      Y[yo + j.yTok] = s1;
      Y[yo + j.yTok + 1] = u1;
      Y[yo + 2 * j.yTok] = s2;
      Y[yo + 2 * j.yTok + 1] = u2;
      Y[yo + 3 * j.yTok] = s3;
      Y[yo + 3 * j.yTok + 1] = u3;
    }
    for (; t < T; t++) {
      const b0 = xo + t * j.xTok;
      let s0 = 0,
        u0 = 0;
      for (let i = 0; i < K; i++) {
        const x0 = X[b0 + i];
        s0 += ra[i] * x0;
        u0 += rb[i] * x0;
      }
      const yo = j.yBase + t * j.yTok + o;
      Y[yo] = s0;
      Y[yo + 1] = u0;
    }
  }

  // (repeated from STAGING_BYTES: this body must be self-contained)
  const STAGING = 65536;
  const simdMem = simd ? new Uint8Array(simd.buffer) : null;
  function simdRuns(w: WeightView): boolean {
    if (simd === undefined || !(w.type === Q8_0 || w.type === F32 || w.type === Q4_K || w.type === Q6_K || w.type === Q5_0)) return false;
    return w.u8.buffer === simd.buffer || (simd.staging !== undefined && w.rowBytes <= STAGING);
  }

  /**
   * A share in WebAssembly: per run of rows that read the same input slice, blocks of rows small enough
   * to stay in cache (~32 KiB; a staging block's 64 KiB for weights outside the memory, copied in
   * first), each block dotted with every token's input in turn. A chunk of T tokens
   * thus re-decodes each block T times from cache instead of re-reading it T times from memory, and every
   * token's value is exactly what a single-token feed computes.
   */
  function simdRows(w: WeightView, j: RowJob, X: Float32Array, Y: Float32Array): void {
    const ex = simd!.ex;
    const inside = w.u8.buffer === simd!.buffer;
    // rows outside the memory are copied into this thread's staging block first, a block at a time
    const block = !inside ? Math.floor(STAGING / w.rowBytes) : j.T === 1 ? j.r1 - j.r0 : Math.max(1, Math.floor(32768 / w.rowBytes));
    for (let o = j.r0; o < j.r1;) {
      const g = (o / j.groupRows) | 0;
      const end = Math.min(j.r1, (g + 1) * j.groupRows, o + block);
      // byte addresses in the SIMD memory (ToInt32 wraps those past 2 GiB; wasm reads them unsigned)
      let wa = w.u8.byteOffset + (j.rowOffset + o) * w.rowBytes;
      if (!inside) {
        simdMem!.set(w.u8.subarray((j.rowOffset + o) * w.rowBytes, (j.rowOffset + end) * w.rowBytes), simd!.staging!);
        wa = simd!.staging!;
      }
      for (let t = 0; t < j.T; t++) {
        const xa = X.byteOffset + 4 * (j.xBase + t * j.xTok + g * j.xGroup);
        const ya = Y.byteOffset + 4 * (j.yBase + t * j.yTok + o);
        if (w.type === Q8_0) ex.q8_0_rows(wa, w.rowBytes, end - o, xa, ya, w.K >> 5);
        else if (w.type === Q4_K) ex.q4_k_rows(wa, w.rowBytes, end - o, xa, ya, w.K >> 8);
        else if (w.type === Q6_K) ex.q6_k_rows(wa, w.rowBytes, end - o, xa, ya, w.K >> 8);
        else if (w.type === Q5_0) ex.q5_0_rows(wa, w.rowBytes, end - o, xa, ya, w.K >> 5);
        else ex.f32_rows(wa, end - o, xa, ya, w.K);
      }
      o = end;
    }
  }

  function runRows(w: WeightView, j: RowJob, X: Float32Array, Y: Float32Array, scratch: Float32Array): void {
    const K = w.K;
    const T = j.T;
    if (simdRuns(w) && X.buffer === simd!.buffer && Y.buffer === simd!.buffer) {
      simdRows(w, j, X, Y);
      return;
    }
    for (let o = j.r0; o < j.r1; o++) {
      const xo = j.xBase + ((o / j.groupRows) | 0) * j.xGroup;
      if (T === 1) {
        if (w.type === Q4_K || w.type === Q5_K) {
          // the input's sub-block sums once per group (= per job without groups), not per row
          if (o === j.r0 || xo !== j.xBase + (((o - 1) / j.groupRows) | 0) * j.xGroup) sums32(X, xo, K);
          Y[j.yBase + o] = w.type === Q4_K ? dotQ4K(w, j.rowOffset + o, X, xo, xsum) : dotQ5K(w, j.rowOffset + o, X, xo, xsum);
          continue;
        }
        // two rows at once where both read the same input
        if (w.type === Q8_0 && o + 1 < j.r1 && (((o + 1) / j.groupRows) | 0) === ((o / j.groupRows) | 0)) {
          dotQ8_0Pair(w, j.rowOffset + o, X, xo, Y, j.yBase + o);
          o++;
        } else {
          Y[j.yBase + o] = dotRow(w, j.rowOffset + o, X, xo, scratch);
        }
        continue;
      }
      // a chunk: decode the row once, then dot it with every token's input, four tokens per pass
      // (each token's sum runs i = 0..K-1 in order whatever the grouping of rows and tokens)
      if (o + 1 < j.r1 && (((o + 1) / j.groupRows) | 0) === ((o / j.groupRows) | 0)) {
        chunkPair(w, j, o, xo, X, Y, scratch);
        o++;
        continue;
      }
      decodeRow(w, j.rowOffset + o, scratch);
      let t = 0;
      for (; t + 4 <= T; t += 4) {
        const b0 = xo + t * j.xTok,
          b1 = b0 + j.xTok,
          b2 = b1 + j.xTok,
          b3 = b2 + j.xTok;
        let s0 = 0,
          s1 = 0,
          s2 = 0,
          s3 = 0;
        for (let i = 0; i < K; i++) {
          const v = scratch[i];
          s0 += v * X[b0 + i];
          s1 += v * X[b1 + i];
          s2 += v * X[b2 + i];
          s3 += v * X[b3 + i];
        }
        const yo = j.yBase + t * j.yTok + o;
        Y[yo] = s0;
        Y[yo + j.yTok] = s1;
        Y[yo + 2 * j.yTok] = s2;
        Y[yo + 3 * j.yTok] = s3;
      }
      for (; t < T; t++) {
        const b0 = xo + t * j.xTok;
        let s0 = 0;
        for (let i = 0; i < K; i++) s0 += scratch[i] * X[b0 + i];
        Y[j.yBase + t * j.yTok + o] = s0;
      }
    }
  }

  return { types: Object.keys(LAYOUT).map(Number), rowBytes, view, decodeRow, dotRow, runRows, f16: H, simdRuns };
}
