// Attention-weights readout for the UI: per query, the attention probabilities summed over heads,
//   w[q, s] = Σ_h exp(score[q, h, c] - M[q, h]) / L[q, h]
// at the candidate's cache position s (dense: s = c; SPARSE: s = idx[q * k_sel + c]). Invisible candidates
// write 0 (dense) or nothing (sparse: the dispatcher clears the row first). out: [nq, out_stride] f32.

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read> idx: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let q = p.q_base + gid.y;
  if (c >= p.score_stride) {
    return;
  }
  let limit = min(p.n_kv, p.q_pos0 + q + 1u);
  var s = c;
  if (SPARSE) {
    if (c >= p.k_sel) {
      return;
    }
    s = idx[q * p.k_sel + c];
  }
  if (s >= limit) {
    if (!SPARSE && s < p.out_stride) {
      out[q * p.out_stride + s] = 0.0;
    }
    return;
  }
  var w = 0.0;
  for (var h = 0u; h < p.n_heads; h++) {
    let ml = stats[q * p.n_heads + h];
    if (ml.y > 0.0) {
      w += exp(scores[(q * p.n_heads + h) * p.score_stride + c] - ml.x) / ml.y;
    }
  }
  out[q * p.out_stride + s] = w;
}
