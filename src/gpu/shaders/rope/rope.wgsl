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

// cos and sin of theta to ~1e-7, on every adapter: the WGSL built-ins are only specified on [-π, π]
// and to 2^-11 there (SwiftShader's are off by ~2e-4). Quadrant reduction by π/2 split in three parts
// (Cody-Waite: j * PIO2_1 is exact for |j| < 2^15, i.e. |theta| < ~5e4), then minimax polynomials on [-π/4, π/4].
fn cos_sin(theta: f32) -> vec2<f32> {
  let j = round(theta * 0.63661977236758134);
  var r = theta - j * 1.5703125;
  r -= j * 4.837512969970703125e-4;
  r -= j * 7.54978995489188216e-8;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  let q = i32(j) & 3;
  if (q == 0) {
    return vec2<f32>(c, s);
  } else if (q == 1) {
    return vec2<f32>(-s, c);
  } else if (q == 2) {
    return vec2<f32>(-c, -s);
  }
  return vec2<f32>(s, -c);
}

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
  var theta_extrap = f32(pos);
  for (var i = 0u; i < k; i++) {
    theta_extrap *= p.theta_scale;
  }
  let theta_interp = p.freq_scale * theta_extrap;
  var theta = theta_interp;
  var mscale = p.attn_factor;
  if (p.ext_factor != 0.0) {
    let y = (f32(k) - p.corr0) / max(0.001, p.corr1 - p.corr0);
    let ramp = (1.0 - min(1.0, max(0.0, y))) * p.ext_factor;
    theta = theta_interp * (1.0 - ramp) + theta_extrap * ramp;
    mscale *= 1.0 + 0.1 * log(1.0 / p.freq_scale);
  }
  let cs = cos_sin(theta) * mscale;
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
