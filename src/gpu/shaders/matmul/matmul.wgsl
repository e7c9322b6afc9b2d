// Quantized matrix-matrix product for prefill: Y[m, y_offset + n] = sum_k W[n, k] * X[m, k] over one
// part of a GpuTensor, W read in place in its GGUF block format (blocks.wgsl).
// A workgroup of 64 threads computes a tile of TN = 32 weight rows x TM = 32 x rows. Per 32-value chunk
// of K, 32 threads decode one weight row's chunk each into shared memory (each weight block is read once
// per tile of 32 x rows) while the other 32 load one x row's chunk each; then every thread accumulates a
// 4 x 4 sub-tile (weight rows tx + 8i, x rows ty + 8j). Grid: (ceil(rows / TN), ceil(M / TM)).

{{PARAMS}}

const TN: u32 = 32u;
const TM: u32 = 32u;
const TAIL: bool = {{TAIL}}; // a float row whose length is not a multiple of 32

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
//#if X4
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>; // K % 4 == 0: 16-byte loads
//#else
@group(0) @binding(2) var<storage, read> X: array<f32>;
//#endif
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

var<workgroup> ws: array<vec4<f32>, TN * 8u>;
var<workgroup> xs: array<vec4<f32>, TM * 8u>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let n0 = wid.x * TN;
  let m0 = wid.y * TM;
  let tx = lid % 8u;
  let ty = lid / 8u;
  // Tile rows past the end re-read the last row (results never written) so every load is in bounds.
  let w_row_byte = min(n0 + lid, p.rows - 1u) * p.row_bytes;
  let x_base = min(m0 + lid - 32u, p.m - 1u) * p.k;

  var acc: array<vec4<f32>, 4>; // acc[j][i]: x row ty + 8j, weight row tx + 8i
  for (var c = 0u; c < p.chunks; c++) {
    let n = min(32u, p.k - 32u * c);
    if (lid < 32u) {
      let w = load_chunk(w_row_byte, c, n);
//#unroll k 8
      ws[lid * 8u + #k] = vec4<f32>(w[#k]);
//#endunroll
    } else {
      let t = lid - 32u;
      let i = x_base + 32u * c;
//#unroll k 8
//#if X4
      xs[t * 8u + #k] = select(vec4<f32>(0.0), X[(i >> 2u) + #k], vec4<bool>(!TAIL) | (vec4<u32>(4u * #k) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(n)));
//#else
      xs[t * 8u + #k] = select(vec4<f32>(0.0), vec4<f32>(X[i + 4u * #k], X[i + 4u * #k + 1u], X[i + 4u * #k + 2u], X[i + 4u * #k + 3u]),
                               vec4<bool>(!TAIL) | (vec4<u32>(4u * #k) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(n)));
//#endif
//#endunroll
    }
    workgroupBarrier();
    for (var k = 0u; k < 8u; k++) {
      let w0 = ws[tx * 8u + k];
      let w1 = ws[(tx + 8u) * 8u + k];
      let w2 = ws[(tx + 16u) * 8u + k];
      let w3 = ws[(tx + 24u) * 8u + k];
//#unroll j 4
      acc[#j] += vec4<f32>(dot(w0, xs[(ty + 8u * #j) * 8u + k]), dot(w1, xs[(ty + 8u * #j) * 8u + k]), dot(w2, xs[(ty + 8u * #j) * 8u + k]), dot(w3, xs[(ty + 8u * #j) * 8u + k]));
//#endunroll
    }
    workgroupBarrier();
  }

//#unroll j 4
//#unroll i 4
  if (m0 + ty + 8u * #j < p.m && n0 + tx + 8u * #i < p.rows) {
    Y[(m0 + ty + 8u * #j) * p.n_out + p.y_offset + n0 + tx + 8u * #i] = acc[#j][#i];
  }
//#endunroll
//#endunroll
}
