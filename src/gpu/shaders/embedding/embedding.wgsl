// Row lookup in a weight tensor kept in its GGUF block format: out[t, :] = dequantized row ids[t]
// (token embeddings), for the rows held by one part of a GpuTensor. Each thread decodes one 32-value
// chunk with the shared block loaders (f32, bit-for-bit ggml's dequantization formulas).
// Grid: (ceil(chunks / WG), T). Tokens whose row lies in another part are left to that part's dispatch.

{{PARAMS}}

const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  let t = gid.y;
  let id = ids[t];
  if (c >= p.chunks || id < p.part_row0 || id >= p.part_row0 + p.part_rows) {
    return;
  }
  let n = min(32u, p.k - 32u * c);
  let v = load_chunk((id - p.part_row0) * p.row_bytes, c, n);
  let o = t * p.k + 32u * c;
//#unroll k 8
//#unroll i 4
  if (4u * #k + #i < n) {
    out[o + 4u * #k + #i] = f32(v[#k][#i]);
  }
//#endunroll
//#endunroll
}
