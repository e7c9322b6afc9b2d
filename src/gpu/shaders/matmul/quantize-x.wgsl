// Activations x quantized to 8 bits for the int8 matvec (matvec-q8x.ts), rounded as llama.cpp's CPU
// matmul inputs are (src/model/reference/activation-quant.ts):
//   Q8_0 (BS 32, Q8_K off):  d = f16(amax / 127), q = rint(x · 127 / amax)
//   Q8_K (BS 256, Q8_K on):  iscale = -127 / max (max: the value of largest magnitude, the first on ties),
//                            d = 1 / iscale, q = min(127, rint(iscale · x)); an all-zero block is all zero
// One workgroup per x vector v. Its output, vec4 row v·stride4 of XQ (read as a uniform array by the matvec):
//   words [0, V = K/4):        the int8 values, 4 a word (value i in byte i % 4 of word i / 4); PAIRS (V = K/2):
//                              per 4 values q0..q3 two i32, q2 + q0·2^16 and q3 + q1·2^16 (matvec-q8x.ts)
//   words [V, V + K/32):       per 32 values, the f32 scale d of their block (Q8_K: the 256-block's d)
//   words [V + K/32, ..+K/32): per 32 values, Σ q as i32 (Q8_K's block sums: the K-quants' min term)
// NORM: x rows are un-normed h and the values quantized are h · G / sqrt(mean(h²) + eps), as matvec-io.wgsl's
// x_chunk computes them.

struct QParams {
  k: u32,
  x_stride: u32,
  stride4: u32, // vec4 between vectors in XQ
  norm_eps: f32,
}

const WG: u32 = 64u;
const BS: u32 = {{BS}}u;
const VALUE_WORDS_DIV: u32 = {{VALUE_WORDS_DIV}}u; // values per word of the value part: 4, or 2 with PAIRS

@group(0) @binding(0) var<uniform> qp: QParams;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> XQ: array<u32>;
//#if NORM
@group(0) @binding(3) var<storage, read> G: array<f32>;
var<workgroup> red: array<f32, WG>;
//#endif

// v rounded to the nearest f16 value (ties to even), as f32 (v >= 0, below the f16 range's top): done
// with integer ops, since pack2x16float's rounding is the adapter's (lavapipe's differs from ggml's)
fn f16_round(v: f32) -> f32 {
  if (v < 6.103515625e-05) {
    return round(v * 16777216.0) / 16777216.0; // f16 subnormals: multiples of 2^-24 (round: ties to even)
  }
  let b = bitcast<u32>(v);
  let rest = b & 0x1fffu;
  let h = (b >> 13u) + select(0u, 1u, rest > 0x1000u || (rest == 0x1000u && (b & 0x2000u) != 0u));
  return bitcast<f32>(h << 13u);
}

var<private> x0: u32;
var<private> scale: f32 = 1.0;

fn xv(i: u32) -> f32 {
//#if NORM
  return X[x0 + i] * G[i] * scale;
//#else
  return X[x0 + i];
//#endif
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let v = wid.x;
  x0 = v * qp.x_stride;
  let o = v * qp.stride4 * 4u;
//#if NORM
  var ss = 0.0;
  for (var i = lid; i < qp.k; i += WG) {
    let h = X[x0 + i];
    ss = fma(h, h, ss);
  }
  red[lid] = ss;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      red[lid] += red[lid + s];
    }
    workgroupBarrier();
  }
  scale = inverseSqrt(red[0] / f32(qp.k) + qp.norm_eps);
//#endif
  let subs = qp.k / 32u;
  for (var b = lid; b < qp.k / BS; b += WG) {
    let i0 = b * BS;
    var amax = 0.0;
    var mx = 0.0;
    for (var i = 0u; i < BS; i++) {
      let x = xv(i0 + i);
      if (abs(x) > amax) {
        amax = abs(x);
        mx = x;
      }
    }
//#if Q8_K
    let iscale = select(0.0, -127.0 / mx, amax != 0.0);
    let d = select(0.0, 1.0 / iscale, amax != 0.0);
//#else
    let d = f16_round(amax / 127.0);
    let iscale = select(0.0, 127.0 / amax, amax != 0.0);
//#endif
    for (var s = 0u; s < BS / 32u; s++) {
      var sum = 0;
      for (var w = 0u; w < 8u; w++) {
        let i = i0 + 32u * s + 4u * w;
        let q = min(vec4<i32>(round(vec4<f32>(xv(i), xv(i + 1u), xv(i + 2u), xv(i + 3u)) * iscale)), vec4<i32>(127));
        sum += q.x + q.y + q.z + q.w;
//#if PAIRS
        XQ[o + i / 2u] = bitcast<u32>(q.z + (q.x << 16u));
        XQ[o + i / 2u + 1u] = bitcast<u32>(q.w + (q.y << 16u));
//#else
        XQ[o + i / 4u] = pack4xI8(q);
//#endif
      }
      let sb = i0 / 32u + s;
      let v_words = qp.k / VALUE_WORDS_DIV;
      XQ[o + v_words + sb] = bitcast<u32>(d);
      XQ[o + v_words + subs + sb] = bitcast<u32>(sum);
    }
  }
}
