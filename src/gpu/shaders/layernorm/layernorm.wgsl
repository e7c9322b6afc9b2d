// LayerNorm over the rows of x with weight and bias (the DSA indexer's k_norm):
//   y[r, i] = (x[r, i] - mean) / sqrt(var + eps) * weight[i] + bias[i], var = mean((x - mean)^2).
// One workgroup per row; WG threads stride over the row; two tree reductions (mean, then the
// centred sum of squares, as ggml does). x, y: [rows, n] f32 row-major; weight, bias: [n] f32.

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

var<workgroup> partial: array<f32, WG>;

fn reduce(lid: u32, v: f32) -> f32 {
  partial[lid] = v;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      partial[lid] += partial[lid + stride];
    }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= p.rows) {
    return; // uniform per workgroup: the whole group leaves together
  }
  let base = row * p.n;
  var sum = 0.0;
  for (var i = lid; i < p.n; i += WG) {
    sum += x[base + i];
  }
  let mean = reduce(lid, sum) / f32(p.n);
  var sq = 0.0;
  for (var i = lid; i < p.n; i += WG) {
    let d = x[base + i] - mean;
    sq += d * d;
  }
  let scale = inverseSqrt(reduce(lid, sq) / f32(p.n) + p.eps);
  for (var i = lid; i < p.n; i += WG) {
    y[base + i] = (x[base + i] - mean) * scale * weight[i] + bias[i];
  }
}
