/**
 * CPU reference (float64 inside) for the attention kernels: absorbed MLA and legacy MHA, dense or over
 * chosen positions, causal, with the per-position Σ_h probability readout.
 */
export interface AttnRefArgs {
  heads: number;
  nq: number;
  nKv: number;
  qPos0: number;
  d1: number;
  d2: number;
  dv: number;
  /** (q, h, i) → value */
  q1: (q: number, h: number, i: number) => number;
  q2: (q: number, h: number, i: number) => number;
  k1: (s: number, h: number, i: number) => number;
  k2: (s: number, h: number, i: number) => number;
  v: (s: number, h: number, i: number) => number;
  kqScale: number;
  /** Positions per query (NO_POSITION entries and duplicates are skipped). */
  chosen?: (q: number) => number[];
  /** Readout width (capacity). */
  capacity: number;
}

export function attentionRef(a: AttnRefArgs): { out: Float32Array; weights: Float32Array } {
  const out = new Float32Array(a.nq * a.heads * a.dv);
  const weights = new Float32Array(a.nq * a.capacity);
  for (let q = 0; q < a.nq; q++) {
    const limit = Math.min(a.nKv, a.qPos0 + q + 1);
    const cands = a.chosen ? [...new Set(a.chosen(q))].filter((s) => s < limit) : [...Array(limit).keys()];
    for (let h = 0; h < a.heads; h++) {
      const sc = cands.map((s) => {
        let d = 0;
        for (let i = 0; i < a.d1; i++) d += a.q1(q, h, i) * a.k1(s, h, i);
        for (let i = 0; i < a.d2; i++) d += a.q2(q, h, i) * a.k2(s, h, i);
        return d * a.kqScale;
      });
      const m = Math.max(...sc);
      const e = sc.map((x) => Math.exp(x - m));
      const l = e.reduce((x, y) => x + y, 0);
      cands.forEach((s, j) => {
        const pr = e[j] / l;
        weights[q * a.capacity + s] += pr;
        for (let i = 0; i < a.dv; i++) out[(q * a.heads + h) * a.dv + i] += pr * a.v(s, h, i);
      });
    }
  }
  return { out, weights };
}

/** Absorbed MLA: qLat [nq, H, L], qPe [nq, H, R], ckv [T, L], kpe [T, R] → o_lat [nq, H, L]. */
export function mlaAbsorbedRef(
  x: { qLat: Float32Array; qPe: Float32Array; ckv: Float32Array; kpe: Float32Array },
  d: {
    heads: number;
    kvLora: number;
    rope: number;
    nq: number;
    nKv: number;
    qPos0: number;
    kqScale: number;
    capacity: number;
    chosen?: (q: number) => number[];
  },
) {
  const { heads: H, kvLora: L, rope: R } = d;
  return attentionRef({
    ...d,
    d1: L,
    d2: R,
    dv: L,
    q1: (q, h, i) => x.qLat[(q * H + h) * L + i],
    q2: (q, h, i) => x.qPe[(q * H + h) * R + i],
    k1: (s, _h, i) => x.ckv[s * L + i],
    k2: (s, _h, i) => x.kpe[s * R + i],
    v: (s, _h, i) => x.ckv[s * L + i],
  });
}

/** Legacy MHA: q [nq, H, dk], k [T, H, dk], v [T, H, dv] → [nq, H, dv]. */
export function mlaLegacyRef(
  x: { q: Float32Array; k: Float32Array; v: Float32Array },
  d: { heads: number; dk: number; dv: number; nq: number; nKv: number; qPos0: number; kqScale: number; capacity: number; chosen?: (q: number) => number[] },
) {
  const { heads: H, dk, dv } = d;
  return attentionRef({
    ...d,
    d1: dk,
    d2: 0,
    q1: (q, h, i) => x.q[(q * H + h) * dk + i],
    q2: () => 0,
    k1: (s, h, i) => x.k[(s * H + h) * dk + i],
    k2: () => 0,
    v: (s, h, i) => x.v[(s * H + h) * dv + i],
  });
}
