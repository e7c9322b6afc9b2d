// Grouped-query attention's cache append in one dispatch (the dense families: llama, qwen2, qwen3), after the
// q/k/v projections wrote their blocks of one buffer:
//   q [rows, H, D] at q_off, k [rows, HK, D] at k_off, v [rows, HK, D] at v_off (f32 offsets into qkv)
//   x = x + bias                       (BIAS: qwen2's attn_q/k/v.bias, from aux)
//   x_h = RMSNorm(x_h) · norm_w        (QK_NORM: qwen3's attn_q_norm / attn_k_norm [D], per head)
//   q_h = rope(q_h, pos0 + r) in place; k_cache[pos0 + r, g] = rope(k_g); v_cache[pos0 + r, g] = v_g
// RoPE over the whole head: NEOX pairs (i, i + D/2), else adjacent pairs (2i, 2i + 1); FREQ divides pair i's
// angle by aux[ff_off + i] (rope_freqs.weight). One invocation per (row, head slot of H + 2·HK): a head is
// 64–128 values and a decode step has a few dozen heads, so no workgroup reductions are worth their barriers.
// aux holds this layer's small vectors: [bq (H·D) | bk (HK·D) | bv (HK·D) | q_norm (D) | k_norm (D) | ff (D/2)].

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> aux: array<f32>;
@group(0) @binding(3) var<storage, read_write> k_cache: array<f32>;
@group(0) @binding(4) var<storage, read_write> v_cache: array<f32>;

// element i of a head at qkv[src + i], its bias at aux[bias + i]
fn load(src: u32, bias: u32, i: u32) -> f32 {
  var x = qkv[src + i];
  if (BIAS) {
    x += aux[bias + i];
  }
  return x;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let slots = p.heads + 2u * p.heads_kv;
  let idx = (wid.x + wid.y * nwg.x) * WG + lid;
  if (idx >= p.rows * slots) {
    return;
  }
  let r = idx / slots;
  let slot = idx % slots;
  let d = p.head_dim;
  let cache_row = (p.pos0 + r) * p.kv_width;
  if (slot >= p.heads + p.heads_kv) {
    let g = slot - p.heads - p.heads_kv;
    let src = p.v_off + r * p.kv_width + g * d;
    for (var i = 0u; i < d; i++) {
      v_cache[cache_row + g * d + i] = load(src, p.bv_off + g * d, i);
    }
    return;
  }
  let is_q = slot < p.heads;
  var src: u32;
  var bias: u32;
  var norm_w: u32;
  var dst: u32;
  if (is_q) {
    src = p.q_off + r * p.heads * d + slot * d;
    bias = p.bq_off + slot * d;
    norm_w = p.qn_off;
    dst = src;
  } else {
    let g = slot - p.heads;
    src = p.k_off + r * p.kv_width + g * d;
    bias = p.bk_off + g * d;
    norm_w = p.kn_off;
    dst = cache_row + g * d;
  }
  var scale = 1.0;
  if (QK_NORM) {
    var sum = 0.0;
    for (var i = 0u; i < d; i++) {
      let x = load(src, bias, i);
      sum += x * x;
    }
    scale = inverseSqrt(sum / f32(d) + p.eps);
  }
  let half = d / 2u;
  for (var k = 0u; k < half; k++) {
    var i0 = 2u * k;
    var i1 = i0 + 1u;
    if (NEOX) {
      i0 = k;
      i1 = k + half;
    }
    var x0 = load(src, bias, i0) * scale;
    var x1 = load(src, bias, i1) * scale;
    if (QK_NORM) {
      x0 *= aux[norm_w + i0];
      x1 *= aux[norm_w + i1];
    }
    var div = 1.0;
    if (FREQ) {
      div = aux[p.ff_off + k];
    }
    let cs = rope_cos_sin_div(p.pos0 + r, k, div, p.theta_scale, p.freq_scale, p.ext_factor, p.attn_factor, p.corr0, p.corr1);
    let y0 = x0 * cs.x - x1 * cs.y;
    let y1 = x0 * cs.y + x1 * cs.x;
    if (is_q) {
      qkv[dst + i0] = y0;
      qkv[dst + i1] = y1;
    } else {
      k_cache[dst + i0] = y0;
      k_cache[dst + i1] = y1;
    }
  }
}
