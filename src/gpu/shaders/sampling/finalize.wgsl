// The filters and the draw over the sorted candidates cand vec2<u32> [n_cand] (best first), in one
// thread: the sets are prefixes of at most KEEP tokens, and a sequential loop fixes the f32 order
// that sampling.ref.ts repeats. With e_i = exp(v_i - v0) (v_i = work[cand[i].y]):
//   top-k: k = min(top_k, n_cand) (top_k 0: n_cand)
//   top-p: the first i whose running Σ e_j / Z reaches top_p, Z = Σ_{j<k} e_j (top-k on) or Σ part (whole vocabulary)
//   min-p: keep while e_i / S >= min_p · (1 / S), S = Σ over the kept e
//   draw:  r = uniform(seed, step); subtract exp((v_i - v0)/T) / S_T until r < 0 → out[0] = cand[i].y

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> work: array<f32>;
@group(0) @binding(2) var<storage, read> cand: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> part: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;

fn e(i: u32, v0: f32) -> f32 {
  return exp(work[cand[i].y] - v0);
}

@compute @workgroup_size(1)
fn main() {
  let n = p.n_cand;
  let v0 = work[cand[0].y];
  var k = n;
  if (p.top_k > 0u) {
    k = min(p.top_k, n);
  }
  var keep = k;
  if (p.top_p < 1.0) {
    var z = 0.0;
    if (p.top_k > 0u && p.top_k <= n) {
      for (var i = 0u; i < k; i++) {
        z += e(i, v0);
      }
    } else {
      for (var g = 0u; g < p.n_part; g++) {
        z += part[g];
      }
    }
    var acc = 0.0;
    for (var i = 0u; i < k; i++) {
      acc += e(i, v0) / z;
      if (acc >= p.top_p) {
        keep = i + 1u;
        break;
      }
    }
  }
  if (p.min_p > 0.0) {
    var z = 0.0;
    for (var i = 0u; i < keep; i++) {
      z += e(i, v0);
    }
    let floor = p.min_p * (1.0 / z);
    var m = 0u;
    while (m < keep && e(m, v0) / z >= floor) {
      m++;
    }
    keep = m;
  }
  let inv_t = 1.0 / p.temperature;
  var zt = 0.0;
  for (var i = 0u; i < keep; i++) {
    zt += exp((work[cand[i].y] - v0) * inv_t);
  }
  var r = sample_uniform(p.seed, p.step);
  var chosen = cand[keep - 1u].y;
  for (var i = 0u; i < keep; i++) {
    r -= exp((work[cand[i].y] - v0) * inv_t) / zt;
    if (r < 0.0) {
      chosen = cand[i].y;
      break;
    }
  }
  out[0] = chosen;
  out[1] = select(0u, 1u, non_finite(v0));
}
