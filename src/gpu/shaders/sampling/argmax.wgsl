// Greedy argmax over work f32 [n], ties to the lowest index, in two passes:
//   FINAL false: grid (ceil(n / SPAN)): each workgroup's best (key, id) of its SPAN-slice → part [groups] vec2<u32>
//   FINAL true:  one workgroup: the best of the n partials → out[0] = token id, out[1] = 1 if its logit
//                is NaN or ±Inf (a +NaN/+Inf sorts first, so a poisoned vocabulary shows in the winner)
// Threads stride over their slice, then a shared-memory tree (compare by key, then id).

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> work: array<f32>;
@group(0) @binding(2) var<storage, read> part_in: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read_write> part_out: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read_write> out: array<u32>;

var<workgroup> bk: array<u32, WG>;
var<workgroup> bi: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  var k = 0u;
  var id = 0xffffffffu;
  var start = 0u;
  var end = p.n;
  if (!FINAL) {
    start = wid.x * SPAN;
    end = min(p.n, start + SPAN);
  }
  for (var i = start + lid; i < end; i += WG) {
    var ik: u32;
    var ii: u32;
    if (FINAL) {
      let e = part_in[i];
      ik = e.x;
      ii = e.y;
    } else {
      ik = f32_key(work[i]);
      ii = i;
    }
    if (before(ik, ii, k, id)) {
      k = ik;
      id = ii;
    }
  }
  bk[lid] = k;
  bi[lid] = id;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride && before(bk[lid + stride], bi[lid + stride], bk[lid], bi[lid])) {
      bk[lid] = bk[lid + stride];
      bi[lid] = bi[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    if (FINAL) {
      out[0] = bi[0];
      out[1] = select(0u, 1u, non_finite(work[bi[0]]));
    } else {
      part_out[wid.x] = vec2<u32>(bk[0], bi[0]);
    }
  }
}
