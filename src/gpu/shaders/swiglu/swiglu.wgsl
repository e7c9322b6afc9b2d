// SwiGLU gate: y[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)), over n values
// (the dense FFN and every expert: rows of [m, ff] flattened). 1-D grid split over x and y.

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> gate: array<f32>;
@group(0) @binding(2) var<storage, read> up: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) {
    return;
  }
  let g = gate[i];
  // exp(-g) overflows to +inf for g < -88: g / inf = -0, the right limit; clamp keeps it finite anyway.
  let s = g / (1.0 + exp(min(-g, 80.0)));
  y[i] = s * up[i];
}
