/**
 * The CPU backend's AttentionKernels (src/model/reference/attention-kernels.ts): absorbed MLA's cached
 * rows live in the WebAssembly SIMD memory, one contiguous region per layer and kind (ckv [capacity][kv_lora],
 * kpe [capacity][rope]), so a head's scores over positions 0..n-1 are one f32_rows call (q·row, f32
 * lanes) and its weighted sum of the visible rows one f32_wsum call. Scores come back as f32 (the
 * reference's own loops sum in f64): the CPU model's logits stay within its tests' bounds of the
 * reference (src/engine/cpu/cpu-model.test.ts). Rows that are not where the region put them (never, in
 * a CpuModel session) go through the plain loops.
 */
import { plainAttention, type AttentionKernels, type CachedRows } from '../../model/reference/attention-kernels.ts';
import type { SimdArena } from './wasm/simd-arena.ts';
import type { SimdExports } from './wasm/simd-kernels.ts';

/** One model's attention storage in the arena, shared by its (one at a time) sessions. */
export interface AttentionRegion {
  ex: SimdExports;
  buffer: ArrayBufferLike;
  capacity: number;
  width: Record<CachedRows, number>;
  /** per layer: capacity rows of width[kind] f32 */
  rows: Record<CachedRows, Float32Array[]>;
  /** one head's query slice, the scores of one head, the probabilities and positions of one sum, its result */
  q: Float32Array;
  scores: Float32Array;
  p: Float32Array;
  idx: Int32Array;
  out: Float32Array;
}

/** Byte sizes to reserve in the arena for `attentionRegion` (passed among its allocations; taken in any order). */
export function attentionRegionBytes(layers: number, capacity: number, kvLora: number, rope: number): number[] {
  const perLayer = Array.from({ length: layers }, () => [capacity * kvLora * 4, capacity * rope * 4]).flat();
  return [...perLayer, Math.max(kvLora, rope) * 4, capacity * 4, capacity * 4, capacity * 4, kvLora * 4];
}

/** Takes the region's views from `arena` (after attentionRegionBytes' sizes were reserved in it). */
export function attentionRegion(arena: SimdArena, layers: number, capacity: number, kvLora: number, rope: number): AttentionRegion {
  const f32 = (n: number) => {
    const b = arena.take(n * 4);
    return new Float32Array(b.buffer, b.byteOffset, n);
  };
  const rows: Record<CachedRows, Float32Array[]> = { ckv: [], kpe: [] };
  for (let il = 0; il < layers; il++) {
    rows.ckv.push(f32(capacity * kvLora));
    rows.kpe.push(f32(capacity * rope));
  }
  const q = f32(Math.max(kvLora, rope));
  const scores = f32(capacity);
  const p = f32(capacity);
  const idxBytes = arena.take(capacity * 4);
  return {
    ex: arena.exports,
    buffer: arena.buffer,
    capacity,
    width: { ckv: kvLora, kpe: rope },
    rows,
    q,
    scores,
    p,
    idx: new Int32Array(idxBytes.buffer, idxBytes.byteOffset, capacity),
    out: f32(kvLora),
  };
}

/** Absorbed MLA whose row widths the f32x4 kernels take (multiples of 4). */
export function simdAttentionFits(kvLora: number, rope: number): boolean {
  return kvLora % 4 === 0 && rope % 4 === 0 && kvLora > 0 && rope > 0;
}

/** A session's kernels over the region: rows kept at the next position of their layer's region. */
export class SimdAttention implements AttentionKernels {
  private readonly count: Record<CachedRows, Int32Array>;

  constructor(private readonly r: AttentionRegion) {
    this.count = { ckv: new Int32Array(r.rows.ckv.length), kpe: new Int32Array(r.rows.kpe.length) };
  }

  keep(il: number, kind: CachedRows, row: Float32Array): Float32Array {
    const n = this.count[kind][il];
    const w = this.r.width[kind];
    if (n >= this.r.capacity || row.length !== w) return row;
    this.count[kind][il] = n + 1;
    const view = this.r.rows[kind][il].subarray(n * w, (n + 1) * w);
    view.set(row);
    return view;
  }

  /** whether rows[0..n) are consecutive rows of width `width` in the SIMD memory */
  private contiguous(rows: readonly Float32Array[], n: number, width: number): boolean {
    const r0 = rows[0];
    return r0.buffer === this.r.buffer && rows[n - 1].buffer === this.r.buffer && rows[n - 1].byteOffset === r0.byteOffset + (n - 1) * width * 4;
  }

  addScores(q: Float32Array, qOff: number, rows: readonly Float32Array[], n: number, width: number, out: Float64Array): void {
    if (n === 0) return;
    if (width % 4 !== 0 || n > this.r.capacity || !this.contiguous(rows, n, width)) return plainAttention.addScores(q, qOff, rows, n, width, out);
    const { q: qs, scores } = this.r;
    qs.set(q.subarray(qOff, qOff + width));
    this.r.ex.f32_rows(rows[0].byteOffset, n, qs.byteOffset, scores.byteOffset, width);
    for (let s = 0; s < n; s++) out[s] += scores[s];
  }

  weightedSum(p: Float64Array, rows: readonly Float32Array[], idx: readonly number[], width: number, out: Float32Array): void {
    const n = idx.length;
    if (width % 4 !== 0 || n === 0 || n > this.r.capacity || !this.contiguous(rows, rows.length, width) || width > this.r.out.length) {
      return plainAttention.weightedSum(p, rows, idx, width, out);
    }
    const { p: ps, idx: is, out: os } = this.r;
    ps.set(p.subarray(0, n));
    for (let j = 0; j < n; j++) is[j] = idx[j];
    this.r.ex.f32_wsum(rows[0].byteOffset, is.byteOffset, n, ps.byteOffset, os.byteOffset, width);
    out.set(os.subarray(0, width));
  }
}
