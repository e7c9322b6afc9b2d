// The DSA indexer's key append and query rotation in one dispatch (four small kernels before):
//   k_I:  k_cache[pos0 + r, :] = rope(LayerNorm(k_raw[r, :]) · ln_w + ln_b, pos0 + r)     k_raw [rows, D]
//   q_I:  q[r, h, :] = rope(q[r, h, :], pos0 + r), in place                                q [rows, H, D]
// RoPE with NeoX pairs (x[k], x[k + n_dims/2]) on each head's first n_dims values ([rope | nope]);
// rope_cos_sin comes from rope-math.wgsl. LayerNorm as layernorm.wgsl: mean, then the centred sum of
// squares. Workgroups 0 .. rows-1 append one key each (thread i writes element i of the normed, rotated
// row, recomputing its pair partner's norm, so no shared row is needed); the rest run one thread per
// (row, head, pair) of q.

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> k_raw: array<f32>;
@group(0) @binding(2) var<storage, read> ln_w: array<f32>;
@group(0) @binding(3) var<storage, read> ln_b: array<f32>;
@group(0) @binding(4) var<storage, read_write> k_cache: array<f32>;
@group(0) @binding(5) var<storage, read_write> q: array<f32>;

var<workgroup> partial: array<f32, WG>;

// Sum of v over the workgroup: one barrier, every thread adds the WG partials (then one more barrier
// before `partial` is reused).
fn wg_sum(lid: u32, v: f32) -> f32 {
  partial[lid] = v;
  workgroupBarrier();
  var total = 0.0;
  for (var i = 0u; i < WG; i++) {
    total += partial[i];
  }
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x; // uniform within the workgroup, so the barriers below are too
  let half = p.n_dims / 2u;
  if (g < p.rows) {
    let base = g * p.dim;
    var sum = 0.0;
    for (var i = lid; i < p.dim; i += WG) {
      sum += k_raw[base + i];
    }
    let mean = wg_sum(lid, sum) / f32(p.dim);
    var sq = 0.0;
    for (var i = lid; i < p.dim; i += WG) {
      let d = k_raw[base + i] - mean;
      sq += d * d;
    }
    let scale = inverseSqrt(wg_sum(lid, sq) / f32(p.dim) + p.eps);
    let out = (p.pos0 + g) * p.dim;
    for (var i = lid; i < p.dim; i += WG) {
      let v = (k_raw[base + i] - mean) * scale * ln_w[i] + ln_b[i];
      if (i >= p.n_dims) {
        k_cache[out + i] = v;
        continue;
      }
      let first = i < half; // the pair's x[k] (else its x[k + half])
      let k = select(i - half, i, first);
      let j = select(i - half, i + half, first);
      let partner = (k_raw[base + j] - mean) * scale * ln_w[j] + ln_b[j];
      let cs = rope_cos_sin(p.pos0 + g, k, p.theta_scale, p.freq_scale, p.ext_factor, p.attn_factor, p.corr0, p.corr1);
      // pair (a, b) -> (a cos - b sin, a sin + b cos)
      k_cache[out + i] = select(partner * cs.y + v * cs.x, v * cs.x - partner * cs.y, first);
    }
    return;
  }
  let idx = (g - p.rows) * WG + lid;
  if (idx >= p.rows * p.heads * half) {
    return;
  }
  let k = idx % half;
  let rh = idx / half;
  let r = rh / p.heads;
  let cs = rope_cos_sin(p.pos0 + r, k, p.theta_scale, p.freq_scale, p.ext_factor, p.attn_factor, p.corr0, p.corr1);
  let i0 = rh * p.dim + k;
  let x0 = q[i0];
  let x1 = q[i0 + half];
  q[i0] = x0 * cs.x - x1 * cs.y;
  q[i0 + half] = x0 * cs.y + x1 * cs.x;
}
