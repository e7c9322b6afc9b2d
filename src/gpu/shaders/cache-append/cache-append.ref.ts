/**
 * CPU references for the fused cache appends, composed of the unfused kernels' references (rmsnorm,
 * layernorm, rope) in the order the decode step used to run them.
 */
import { rmsnormRef } from '../rmsnorm/rmsnorm.ref.ts';
import { layernormRef } from '../layernorm/layernorm.ref.ts';
import { ropeRef, type RopeParams } from '../rope/rope.ref.ts';

/** kv_a [rows, L + R], q [rows, H, qHead] → ckv [rows, L], kpe [rows, R], q_pe [rows, H, R], q rotated in place. */
export function mlaAppendRef(a: {
  kvA: Float32Array;
  normW: Float32Array;
  q: Float32Array;
  rows: number;
  heads: number;
  kvLora: number;
  qHead: number;
  qOffset: number;
  rope: RopeParams;
  eps: number;
  pos: number;
}) {
  const R = a.rope.nDims;
  const L = a.kvLora;
  const ckvIn = new Float32Array(a.rows * L);
  const kpe = new Float32Array(a.rows * R);
  for (let r = 0; r < a.rows; r++) {
    ckvIn.set(a.kvA.subarray(r * (L + R), r * (L + R) + L), r * L);
    kpe.set(a.kvA.subarray(r * (L + R) + L, (r + 1) * (L + R)), r * R);
  }
  const ckv = rmsnormRef(ckvIn, a.normW, a.rows, L, a.eps);
  ropeRef(kpe, { rows: a.rows, heads: 1, rowStride: R, headStride: R, offset: 0 }, a.rope, a.pos);
  const q = ropeRef(a.q.slice(), { rows: a.rows, heads: a.heads, rowStride: a.heads * a.qHead, headStride: a.qHead, offset: a.qOffset }, a.rope, a.pos);
  const qPe = new Float32Array(a.rows * a.heads * R);
  for (let j = 0; j < a.rows * a.heads; j++) qPe.set(q.subarray(j * a.qHead + a.qOffset, j * a.qHead + a.qOffset + R), j * R);
  return { ckv, kpe, q, qPe };
}

/** k_raw [rows, D], q [rows, H, D] → keys [rows, D] (LayerNorm then RoPE), q rotated. */
export function indexerAppendRef(a: {
  kRaw: Float32Array;
  lnW: Float32Array;
  lnB: Float32Array;
  q: Float32Array;
  rows: number;
  heads: number;
  dim: number;
  rope: RopeParams;
  eps: number;
  pos: number;
}) {
  const k = ropeRef(
    layernormRef(a.kRaw, a.lnW, a.lnB, a.rows, a.dim, a.eps),
    { rows: a.rows, heads: 1, rowStride: a.dim, headStride: a.dim, offset: 0 },
    a.rope,
    a.pos,
  );
  const q = ropeRef(a.q.slice(), { rows: a.rows, heads: a.heads, rowStride: a.heads * a.dim, headStride: a.dim, offset: 0 }, a.rope, a.pos);
  return { k, q };
}
