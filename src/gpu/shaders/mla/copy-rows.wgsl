// Row copy for the caches: dst[(dst_row0 + r) * dst_row + dst_off + i] = src[r * src_row + src_off + i], i < width.
// Appends a token's (or a prefill chunk's) ckv / kpe, or legacy k / v, to the cache at row dst_row0.

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = (wid.x + wid.y * nwg.x) * WG + lid;
  if (t >= p.rows * p.width) {
    return;
  }
  let r = t / p.width;
  let i = t - r * p.width;
  dst[(p.dst_row0 + r) * p.dst_row + p.dst_off + i] = src[r * p.src_row + p.src_off + i];
}
