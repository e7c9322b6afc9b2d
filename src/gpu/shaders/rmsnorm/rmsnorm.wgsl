// RMSNorm over the rows of x: y[r, i] = x[r, i] / sqrt(mean_i(x[r, :]^2) + eps) * weight[i].
// One workgroup per row; WG threads stride over the row, then a shared-memory tree reduction.
// x, y: [rows, n] f32 row-major; weight: [n] f32.

{{PARAMS}}

override WG: u32 = 256;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x;
  let base = row * p.x_stride;
  let out = (p.y_row0 + row) * p.n;
  var sum = 0.0;
  for (var i = lid; i < p.n; i += WG) {
    let v = x[base + i];
    sum += v * v;
  }
  partial[lid] = sum;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      partial[lid] += partial[lid + stride];
    }
    workgroupBarrier();
  }
  let scale = inverseSqrt(partial[0] / f32(p.n) + p.eps);
  for (var i = lid; i < p.n; i += WG) {
    y[out + i] = x[base + i] * scale * weight[i];
  }
}
