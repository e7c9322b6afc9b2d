// Split-K attention, pass 1 of 2 (flash-decoding): one workgroup per (chunk of CH candidate positions, query).
// Serves absorbed MLA (MQA over the shared latent: K = [ckv | kpe], V = ckv, every head reads the same
// rows, so SHARED_KV loads each cache vector once for HG heads), the legacy MHA path (per-head K, V) and
// grouped-query attention (kv_group query heads per key/value head: SHARED_KV over each group's HG heads).
//   score(h, s) = (q1[q, h] · k1[s, h] + q2[q, h] · k2[s, h]) * kq_scale
// Candidates: dense, position s = chunk * CH + j; SPARSE, s = idx[q * k_sel + chunk * CH + j]
// (0xFFFFFFFF = no position). A candidate counts when s < n_kv and s <= q_pos0 + q (causal).
// Writes per (q, chunk, h): m = max score, l = Σ exp(score - m), o[dv] = Σ exp(score - m) v[s, h];
// with WEIGHTS also the raw scores [q, h, candidate] for the attention readout.
// Vectors are VT (vec4<f32> when every dim and stride is a multiple of 4, else f32); dims and strides in VT units.

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q1: array<VT>;
@group(0) @binding(2) var<storage, read> q2: array<VT>;
@group(0) @binding(3) var<storage, read> k1: array<VT>;
@group(0) @binding(4) var<storage, read> k2: array<VT>;
@group(0) @binding(5) var<storage, read> v: array<VT>;
@group(0) @binding(6) var<storage, read> idx: array<u32>;
@group(0) @binding(7) var<storage, read_write> part_ml: array<vec2<f32>>; // [nq, n_chunks, H] (m, l)
@group(0) @binding(8) var<storage, read_write> part_o: array<VT>;         // [nq, n_chunks, H, dv]
@group(0) @binding(9) var<storage, read_write> scores: array<f32>;        // [nq, H, score_stride] (WEIGHTS)

const NONE: u32 = 0xFFFFFFFFu;
const NEG: f32 = -3.0e38;

var<workgroup> spos: array<u32, CH>;
var<workgroup> sp: array<f32, CH * HMAX>; // [h * CH + j]: scores, then probabilities

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let chunk = wid.x;
  let lq = wid.y; // the query within this dispatch's group: its row of part_ml / part_o
  let q = p.q_base + lq;
  let qpos = p.q_pos0 + q;
  let limit = min(p.n_kv, qpos + 1u); // candidates with s < limit are visible
  let first = chunk * CH;

  // Candidate positions of this chunk.
  let ch = p.ch; // runtime copy of CH: loops over a constant 128 get fully unrolled (slow shader compiles)
  for (var j = lid; j < ch; j += WG) {
    var s = NONE;
    let c = first + j;
    if (SPARSE) {
      if (c < p.k_sel) {
        s = idx[q * p.k_sel + c];
      }
    } else {
      s = c;
    }
    if (s >= limit) {
      s = NONE;
    }
    spos[j] = s;
  }
  workgroupBarrier();

  // Scores: item = (j, head group of HG heads); SHARED_KV loads each key vector once for the group.
  let groups = p.n_heads / HG;
  for (var item = lid; item < ch * groups; item += WG) {
    let j = item % ch;
    let h0 = (item / ch) * HG;
    let s = spos[j];
    var acc: array<f32, HG>;
    for (var hh = 0u; hh < HG; hh++) {
      acc[hh] = 0.0;
    }
    if (s != NONE) {
      let qb1 = q * p.q1_row + h0 * p.q1_head;
      let kv_head = h0 / p.kv_group; // GQA: heads h0 .. h0 + HG - 1 share one key/value head
      let kb1 = s * p.k1_row + kv_head * p.k1_head;
      for (var d = 0u; d < p.d1; d++) {
        if (SHARED_KV) {
          let kv = k1[kb1 + d];
          for (var hh = 0u; hh < HG; hh++) {
            acc[hh] += vdot(q1[qb1 + hh * p.q1_head + d], kv);
          }
        } else {
          acc[0] += vdot(q1[qb1 + d], k1[kb1 + d]);
        }
      }
      let qb2 = q * p.q2_row + h0 * p.q2_head;
      let kb2 = s * p.k2_row + kv_head * p.k2_head;
      for (var d = 0u; d < p.d2; d++) {
        if (SHARED_KV) {
          let kv = k2[kb2 + d];
          for (var hh = 0u; hh < HG; hh++) {
            acc[hh] += vdot(q2[qb2 + hh * p.q2_head + d], kv);
          }
        } else {
          acc[0] += vdot(q2[qb2 + d], k2[kb2 + d]);
        }
      }
    }
    for (var hh = 0u; hh < HG; hh++) {
      var sc = NEG;
      if (s != NONE) {
        sc = acc[hh] * p.kq_scale;
      }
      sp[(h0 + hh) * CH + j] = sc;
      if (WEIGHTS) {
        let cand = first + j;
        if (cand < p.score_stride) {
          scores[(q * p.n_heads + h0 + hh) * p.score_stride + cand] = sc;
        }
      }
    }
  }
  workgroupBarrier();

  // Per head: max, probabilities in place, their sum.
  for (var h = lid; h < p.n_heads; h += WG) {
    var m = NEG;
    for (var j = 0u; j < ch; j++) {
      if (spos[j] != NONE) {
        m = max(m, sp[h * CH + j]);
      }
    }
    var l = 0.0;
    for (var j = 0u; j < ch; j++) {
      var e = 0.0;
      if (spos[j] != NONE) {
        e = exp(sp[h * CH + j] - m);
      }
      sp[h * CH + j] = e;
      l += e;
    }
    part_ml[(lq * p.n_chunks + chunk) * p.n_heads + h] = vec2<f32>(m, l);
  }
  workgroupBarrier();

  // Partial outputs: item = (d, head group); SHARED_KV loads each value vector once for the group.
  for (var item = lid; item < p.dv * groups; item += WG) {
    let d = item % p.dv;
    let h0 = (item / p.dv) * HG;
    var acc: array<VT, HG>;
    for (var hh = 0u; hh < HG; hh++) {
      acc[hh] = VT(0.0);
    }
    for (var j = 0u; j < ch; j++) {
      let s = spos[j];
      if (s == NONE) {
        continue;
      }
      let vb = s * p.v_row + (h0 / p.kv_group) * p.v_head + d;
      if (SHARED_KV) {
        let vv = v[vb];
        for (var hh = 0u; hh < HG; hh++) {
          acc[hh] += sp[(h0 + hh) * CH + j] * vv;
        }
      } else {
        acc[0] += sp[h0 * CH + j] * v[vb];
      }
    }
    for (var hh = 0u; hh < HG; hh++) {
      part_o[((lq * p.n_chunks + chunk) * p.n_heads + h0 + hh) * p.dv + d] = acc[hh];
    }
  }
}
