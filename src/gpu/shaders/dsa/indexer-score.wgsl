// DSA lightning-indexer scores, causal:
//   score[q, s] = w_scale * Σ_h w[q, h] * ReLU(qI[q, h] · kI[s])    for s <= q_pos0 + q and s < n_kv
// and -FLT_MAX for the other s < n_kv. One thread per (s, q); grid (ceil(n_kv / WG), nq).
// qI: [nq, H_I, D_I] (after RoPE); w: [nq, H_I]; kI: [capacity, D_I] (one key per token, shared by the heads);
// scores: [nq, score_stride]. D_I in VT units (vec4 when D_I % 4 == 0).

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qi: array<VT>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> ki: array<VT>;
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let s = gid.x;
  let q = gid.y;
  if (s >= p.n_kv) {
    return;
  }
  var total = -3.40282346638528859812e+38; // -FLT_MAX: not visible (WGSL has no -inf constant)
  if (s <= p.q_pos0 + q) {
    total = 0.0;
    let kb = s * p.d;
    for (var h = 0u; h < p.n_heads; h++) {
      let qb = (q * p.n_heads + h) * p.d;
      var acc = 0.0;
      for (var d = 0u; d < p.d; d++) {
        acc += vdot(qi[qb + d], ki[kb + d]);
      }
      total += w[q * p.n_heads + h] * max(acc, 0.0);
    }
    total *= p.w_scale;
  }
  scores[q * p.score_stride + s] = total;
}
