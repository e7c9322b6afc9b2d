// Quantized matrix-vector product, one invocation per RPI output rows: the per-row variant for software
// adapters (matvec-rows.wgsl) with each x chunk loaded once for RPI rows. On lavapipe (llvmpipe) a load
// of x costs more than a load of W (measured: 8 vec4 x loads per chunk took ~5x the chunk's 2 vec4 weight
// loads), so reusing x over several rows is what pays; no barrier, no shared memory.
// Invocation lid of workgroup wid covers rows wid.x * WG * RPI + lid + r * WG, r = 0 .. RPI-1 (the lanes of
// one SIMD batch read neighbouring rows). Rows past the end re-read the last row and are never written.
// RPI = 1 is matvec-rows.wgsl without its early return (see main).
//   plain  (GATHER off): grid (ceil(rows / (WG * RPI)), M); vector m: x[m*K ..], y[m*n_out + y_offset + row]
//   gather (GATHER on) : grid (ceil(N / (WG * RPI)), slots); slot j uses expert ids[j] of a [K, N, X]
//                        tensor, x row j / x_div, y[j*N + row]; slots whose expert is in another part read nothing.
// Epilogues as matvec.wgsl: PAIR (y = silu(W x) * (W2 x)) and ACCUMULATE (y += W x, plain only); NORM with
// NORM_STREAM (the x row's squares summed as its chunks are read, the scale applied to the row sums at the end),
// NORM_OUT, and the gather's ROUTE and SHARED (matvec-io.wgsl's gather_slot).

const WG: u32 = {{WG}}u;
const RPI: u32 = {{RPI}}u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  // No early return anywhere: llvmpipe loads x (the same address in every lane) with one scalar load
  // only while it can prove invocation 0 active; after a return it gathers lane by lane (measured 2-3x
  // slower). Lanes past the end re-read the last row instead, and skip the write.
  let row0 = matvec_begin(wid.x) * WG * RPI + lid; // SHARED: p from params here
  let vec_index = wid.y;
//#if GATHER
  let sl = gather_slot(vec_index); // SHARED: p describes the shared expert's matrix from here on
  let in_part = sl.in_part;
  let local0 = sl.local0;
  let x_base = sl.x_base;
  let chunk_end = select(0u, p.chunks, in_part); // the workgroup's expert lives in another part: read nothing
//#else
  let in_part = true;
  let local0 = 0u;
  let x_base = vec_index * p.x_stride;
  let chunk_end = p.chunks;
//#endif
  var row_byte: array<u32, RPI>;
//#unroll r {{RPI}}
  row_byte[#r] = (local0 + min(row0 + #r * WG, p.rows - 1u)) * p.row_bytes;
//#endunroll
  var acc: array<f32, RPI>;
//#if PAIR
  var acc2: array<f32, RPI>;
//#endif
  for (var c = 0u; c < chunk_end; c++) {
    let n = min(32u, p.k - 32u * c);
    let xv = x_chunk(x_base + 32u * c, n);
//#unroll r {{RPI}}
    {
      let w = load_chunk(row_byte[#r], c, n);
      var s = w[0] * xv[0];
//#unroll k 7
      s = fma(w[#k + 1u], xv[#k + 1u], s);
//#endunroll
      acc[#r] += f32(s.x) + f32(s.y) + f32(s.z) + f32(s.w);
//#if PAIR
      let w2 = load_chunk2(row_byte[#r], c, n);
      var s2 = w2[0] * xv[0];
//#unroll k 7
      s2 = fma(w2[#k + 1u], xv[#k + 1u], s2);
//#endunroll
      acc2[#r] += f32(s2.x) + f32(s2.y) + f32(s2.z) + f32(s2.w);
//#endif
    }
//#endunroll
  }
  // NORM_STREAM: x_chunk summed the squares of the x row once for all RPI rows; 1 otherwise
  let ns = norm_end();
//#unroll r {{RPI}}
  {
    let row = row0 + #r * WG;
//#if PAIR
    let out = silu(acc[#r] * ns) * (acc2[#r] * ns);
//#else
    let out = acc[#r] * ns;
//#endif
    if (in_part && row < p.rows) {
//#if GATHER
      Y[sl.y_base + row] = out;
//#else
      let yi = vec_index * p.n_out + p.y_offset + row;
//#if ACCUMULATE
      Y[yi] += out;
//#else
      Y[yi] = out;
//#endif
//#endif
    }
  }
//#endunroll
//#if NORM_OUT
  // the invocations of vector vec_index's grid row share its K normed values (ns: the row's 1 / rms)
  write_normed(x_base, vec_index * p.k, wid.x * WG + lid, p.out_stride, ns);
//#endif
}
