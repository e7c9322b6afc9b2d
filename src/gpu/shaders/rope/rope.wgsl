// RoPE in place on a slice of each head, with YaRN as ggml computes it (ggml_rope_ext):
//   x: f32 rows of `heads` heads; head h of row r starts at r * row_stride + h * head_stride and
//   its rotated slice is [offset, offset + n_dims). Pair k (k < n_dims / 2) rotates by
//     theta_extrap = pos * theta_scale^k   (accumulated by repeated f32 multiplication, as ggml's cache does)
//     theta_interp = freq_scale * theta_extrap
//     ext_factor = 0: theta = theta_interp,                                mscale = attn_factor
//     otherwise:      ramp = (1 - clamp((k - corr0) / max(0.001, corr1 - corr0), 0, 1)) * ext_factor
//                     theta = theta_interp * (1 - ramp) + theta_extrap * ramp,
//                     mscale = attn_factor * (1 + 0.1 * ln(1 / freq_scale))
//   NEOX false ("normal", MLA's q_pe/kpe): the pair is (x[2k], x[2k + 1]);
//   NEOX true (rotate-half, the DSA indexer): the pair is (x[k], x[k + n_dims / 2]).
//   (a, b) -> (a cos - b sin, a sin + b cos), cos and sin scaled by mscale.
// pos = pos0 + (USE_POS ? positions[r] : r). One thread per (row, head, pair).

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> positions: array<u32>;
// OUT: the rotated slice goes to y (head h of row r at (y_row0 + r)·y_row_stride + h·y_head_stride +
// y_offset) and x is only read: e.g. MLA's k_pe, rotated from the kv_a output straight into its cache row.
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

// rope_cos_sin (rope-math.wgsl, appended by rope.ts) gives the pair's cos and sin, scaled by mscale.

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let half = p.n_dims / 2u;
  let idx = (wid.x + wid.y * nwg.x) * WG + lid;
  if (idx >= p.rows * p.heads * half) {
    return;
  }
  let k = idx % half;
  let rh = idx / half;
  let h = rh % p.heads;
  let r = rh / p.heads;
  var pos = p.pos0 + r;
  if (USE_POS) {
    pos = p.pos0 + positions[r];
  }
  let cs = rope_cos_sin(pos, k, p.theta_scale, p.freq_scale, p.ext_factor, p.attn_factor, p.corr0, p.corr1);
  let c = cs.x;
  let s = cs.y;
  let base = r * p.row_stride + h * p.head_stride + p.offset;
  var i0 = base + 2u * k;
  var i1 = i0 + 1u;
  if (NEOX) {
    i0 = base + k;
    i1 = i0 + half;
  }
  let x0 = x[i0];
  let x1 = x[i1];
  if (OUT) {
    let j0 = (p.y_row0 + r) * p.y_row_stride + h * p.y_head_stride + p.y_offset + (i0 - base);
    let j1 = j0 + (i1 - i0);
    y[j0] = x0 * c - x1 * s;
    y[j1] = x0 * s + x1 * c;
  } else {
    x[i0] = x0 * c - x1 * s;
    x[i1] = x0 * s + x1 * c;
  }
}
