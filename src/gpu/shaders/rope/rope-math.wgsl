// The rotation of RoPE pair k at position pos, as ggml computes it (ggml_rope_ext; rope.wgsl's header
// spells out the YaRN ramp): (cos theta, sin theta) · mscale. Shared by rope.wgsl and the fused cache
// appends (cache-append/*.wgsl), so every rotation on the GPU is the same f32 arithmetic.
fn rope_cos_sin(pos: u32, k: u32, theta_scale: f32, freq_scale: f32, ext_factor: f32, attn_factor: f32, corr0: f32, corr1: f32) -> vec2<f32> {
  return rope_cos_sin_div(pos, k, 1.0, theta_scale, freq_scale, ext_factor, attn_factor, corr0, corr1);
}

// The same with pair k's angle divided by freq_div (ggml's freq_factors: Llama 3.1+'s rope_freqs.weight).
fn rope_cos_sin_div(pos: u32, k: u32, freq_div: f32, theta_scale: f32, freq_scale: f32, ext_factor: f32, attn_factor: f32, corr0: f32, corr1: f32) -> vec2<f32> {
  var theta_extrap = f32(pos);
  for (var i = 0u; i < k; i++) {
    theta_extrap *= theta_scale;
  }
  theta_extrap = theta_extrap / freq_div;
  let theta_interp = freq_scale * theta_extrap;
  var theta = theta_interp;
  var mscale = attn_factor;
  if (ext_factor != 0.0) {
    let y = (f32(k) - corr0) / max(0.001, corr1 - corr0);
    let ramp = (1.0 - min(1.0, max(0.0, y))) * ext_factor;
    theta = theta_interp * (1.0 - ramp) + theta_extrap * ramp;
    mscale *= 1.0 + 0.1 * log(1.0 / freq_scale);
  }
  return cos_sin(theta) * mscale;
}

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
