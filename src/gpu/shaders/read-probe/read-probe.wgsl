// The fastest a kernel reads memory on this adapter: the yardstick a matvec is held to besides the buffer
// copy. Each invocation sums PER vec4<u32> of W (wrapping u32 adds, no other arithmetic) and writes one word,
// so the time is the loads. A matvec reads its weights the same way and does its math on top: no matvec on
// this adapter can be faster than the best layout here. Two layouts:
//   ROWS on:  invocation i reads vec4 [i·PER, (i+1)·PER), 4 loads per iteration (a matvec's row per invocation)
//   ROWS off: the WG invocations of a workgroup interleave: vec4 g·PER·WG + j·WG + l (coalesced, as GPUs like)
// W [invocations · PER] vec4<u32>, O [invocations] u32.

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> O: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;
  let i = g * WG + lid;
  if (i >= p.invocations) {
    return;
  }
  var s0 = vec4<u32>(0u);
  var s1 = vec4<u32>(0u);
  var s2 = vec4<u32>(0u);
  var s3 = vec4<u32>(0u);
  if (ROWS) {
    let b = i * PER;
    for (var j = 0u; j < PER; j += 4u) {
      s0 += W[b + j];
      s1 += W[b + j + 1u];
      s2 += W[b + j + 2u];
      s3 += W[b + j + 3u];
    }
  } else {
    let b = g * PER * WG + lid;
    for (var j = 0u; j < PER; j += 4u) {
      s0 += W[b + j * WG];
      s1 += W[b + (j + 1u) * WG];
      s2 += W[b + (j + 2u) * WG];
      s3 += W[b + (j + 3u) * WG];
    }
  }
  let s = s0 + s1 + s2 + s3;
  O[i] = s.x + s.y + s.z + s.w;
}
