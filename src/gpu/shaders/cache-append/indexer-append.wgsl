// The DSA indexer's key append and query rotation in one dispatch (four small kernels before):
//   k_I:  k_cache[pos0 + r, :] = rope(LayerNorm(k_raw[r, :]) · ln_w + ln_b, pos0 + r)     k_raw [rows, D]
//   q_I:  q[r, h, :] = rope(q[r, h, :], pos0 + r), in place                                q [rows, H, D]
// RoPE with NeoX pairs (x[k], x[k + n_dims/2]) on each head's first n_dims values ([rope | nope]);
// rope_cos_sin comes from rope-math.wgsl. LayerNorm as layernorm.wgsl: mean, then the centred sum of
// squares. Workgroups 0 .. rows-1 append one key each (thread i writes element i of the normed, rotated
// row, recomputing its pair partner's norm, so no shared row is needed); the rest run one thread per
// (row, head, pair) of q.

// MAIN: the kernel alone; without it, indexer_append is called by mla-indexer-append.wgsl with its params
// taken from the fused append's, and its bindings numbered from IXB (after MLA's).

{{IX_PARAMS}}
{{CONSTS}}

//#if MAIN
@group(0) @binding(0) var<uniform> p: IxParams;
//#endif
@group(0) @binding({{IXB+1}}) var<storage, read> k_raw: array<f32>;
@group(0) @binding({{IXB+2}}) var<storage, read> ln_w: array<f32>;
@group(0) @binding({{IXB+3}}) var<storage, read> ln_b: array<f32>;
@group(0) @binding({{IXB+4}}) var<storage, read_write> k_cache: array<f32>;
@group(0) @binding({{IXB+5}}) var<storage, read_write> iq: array<f32>;

var<workgroup> ix_partial: array<f32, WG>;

// Sum of v over the workgroup: one barrier, every thread adds the WG partials (then one more barrier
// before `ix_partial` is reused).
fn wg_sum(lid: u32, v: f32) -> f32 {
  ix_partial[lid] = v;
  workgroupBarrier();
  var total = 0.0;
  for (var i = 0u; i < WG; i++) {
    total += ix_partial[i];
  }
  workgroupBarrier();
  return total;
}

//#if MAIN
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  indexer_append(wid.x + wid.y * nwg.x, lid, p);
}
//#endif

// Workgroup g's part of the append (g uniform within the workgroup, so the barriers below are too).
fn indexer_append(g: u32, lid: u32, ip: IxParams) {
  let half = ip.n_dims / 2u;
  if (g < ip.rows) {
    let base = g * ip.dim;
    var sum = 0.0;
    for (var i = lid; i < ip.dim; i += WG) {
      sum += k_raw[base + i];
    }
    let mean = wg_sum(lid, sum) / f32(ip.dim);
    var sq = 0.0;
    for (var i = lid; i < ip.dim; i += WG) {
      let d = k_raw[base + i] - mean;
      sq += d * d;
    }
    let scale = inverseSqrt(wg_sum(lid, sq) / f32(ip.dim) + ip.eps);
    let out = (ip.pos0 + g) * ip.dim;
    for (var i = lid; i < ip.dim; i += WG) {
      let v = (k_raw[base + i] - mean) * scale * ln_w[i] + ln_b[i];
      if (i >= ip.n_dims) {
        k_cache[out + i] = v;
        continue;
      }
      let first = i < half; // the pair's x[k] (else its x[k + half])
      let k = select(i - half, i, first);
      let j = select(i - half, i + half, first);
      let partner = (k_raw[base + j] - mean) * scale * ln_w[j] + ln_b[j];
      let cs = rope_cos_sin(ip.pos0 + g, k, ip.theta_scale, ip.freq_scale, ip.ext_factor, ip.attn_factor, ip.corr0, ip.corr1);
      // pair (a, b) -> (a cos - b sin, a sin + b cos)
      k_cache[out + i] = select(partner * cs.y + v * cs.x, v * cs.x - partner * cs.y, first);
    }
    return;
  }
  let idx = (g - ip.rows) * WG + lid;
  if (idx >= ip.rows * ip.heads * half) {
    return;
  }
  let k = idx % half;
  let rh = idx / half;
  let r = rh / ip.heads;
  let cs = rope_cos_sin(ip.pos0 + r, k, ip.theta_scale, ip.freq_scale, ip.ext_factor, ip.attn_factor, ip.corr0, ip.corr1);
  let i0 = rh * ip.dim + k;
  let x0 = iq[i0];
  let x1 = iq[i0 + half];
  iq[i0] = x0 * cs.x - x1 * cs.y;
  iq[i0 + half] = x0 * cs.y + x1 * cs.x;
}
