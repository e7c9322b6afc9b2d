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
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
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
      for (var k = 0u; k < 8u; k++) {
        ws[lid * 8u + k] = vec4<f32>(w[k]);
      }
    } else {
      let t = lid - 32u;
      for (var k = 0u; k < 8u; k++) {
        let i = x_base + 32u * c + 4u * k;
        var v = vec4<f32>(X[i], X[i + 1u], X[i + 2u], X[i + 3u]);
        if (TAIL) {
          v = select(vec4<f32>(0.0), v, vec4<u32>(4u * k) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(n));
        }
        xs[t * 8u + k] = v;
      }
    }
    workgroupBarrier();
    for (var k = 0u; k < 8u; k++) {
      let w0 = ws[tx * 8u + k];
      let w1 = ws[(tx + 8u) * 8u + k];
      let w2 = ws[(tx + 16u) * 8u + k];
      let w3 = ws[(tx + 24u) * 8u + k];
      for (var j = 0u; j < 4u; j++) {
        let xv = xs[(ty + 8u * j) * 8u + k];
        acc[j] += vec4<f32>(dot(w0, xv), dot(w1, xv), dot(w2, xv), dot(w3, xv));
      }
    }
    workgroupBarrier();
  }

  for (var j = 0u; j < 4u; j++) {
    let m = m0 + ty + 8u * j;
    for (var i = 0u; i < 4u; i++) {
      let n = n0 + tx + 8u * i;
      if (m < p.m && n < p.rows) {
        Y[m * p.n_out + p.y_offset + n] = acc[j][i];
      }
    }
  }
}
