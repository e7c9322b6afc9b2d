// In-place (scaled, weighted) accumulate over rows:
//   y[r, i] += scale * sum_{j < terms} w[r * terms + j] * x[(r * terms + j) * n + i]
// terms = 1 and no weights: the in-place residual y += scale * x. With weights on the GPU (the MoE
// router's [T, k] output) and x the gathered expert outputs [T * k, n]: the MoE combine, no readback.
// USE_W false: w is bound but unread (w_j = 1).

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.x + wid.y * nwg.x) * WG + lid;
  if (idx >= p.rows * p.n) {
    return;
  }
  let r = idx / p.n;
  let i = idx - r * p.n;
  var acc = 0.0;
  for (var j = 0u; j < p.terms; j++) {
    let slot = r * p.terms + j;
    var wj = 1.0;
    if (USE_W) {
      wj = w[slot];
    }
    acc += wj * x[slot * p.n + i];
  }
  y[idx] += p.scale * acc;
}
