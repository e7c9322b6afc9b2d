// The top-p normaliser over the whole vocabulary: part[g] = Σ exp(work[i] - v0) over slice g
// (SPAN values), v0 = work[cand[0].y] the best token's value. 256 strided sums, then a tree;
// finalize.wgsl adds the partials in order. Only run when top-p is on and top-k is off (or > KEEP).

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> work: array<f32>;
@group(0) @binding(2) var<storage, read> cand: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;

var<workgroup> acc: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let v0 = work[cand[0].y];
  let start = wid.x * SPAN;
  let end = min(p.n, start + SPAN);
  var s = 0.0;
  for (var i = start + lid; i < end; i += WG) {
    s += exp(work[i] - v0);
  }
  acc[lid] = s;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      acc[lid] += acc[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    part[wid.x] = acc[0];
  }
}
