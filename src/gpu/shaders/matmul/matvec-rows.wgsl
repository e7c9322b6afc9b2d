// Quantized matrix-vector product, one invocation per output row: the variant for software adapters
// (llvmpipe/lavapipe, SwiftShader), which run a workgroup's invocations as SIMD lanes of one CPU thread.
// There a workgroup barrier becomes a coroutine switch and a shared-memory reduction a spill, so this
// variant has neither: each invocation walks its own row's 32-value chunks and writes its sum. On a
// hardware GPU neighbouring invocations read rows row_bytes apart (uncoalesced): use matvec.wgsl there.
// The same bindings, params and grid meaning as matvec.wgsl, with ROWS = WG rows per workgroup:
//   plain  (GATHER off): grid (ceil(rows / WG), M); vector m: x[m*K ..], y[m*n_out + y_offset + row]
//   gather (GATHER on) : grid (ceil(N / WG), slots); slot j uses expert ids[j] of a [K, N, X] tensor,
//                        x row j / x_div, y[j*N + row]; slots whose expert is in another part read nothing.
// The epilogues of matvec.wgsl: PAIR (y = silu(W x) * (W2 x)), ACCUMULATE (y += W x, plain only) and
// COMBINE (gather: y[t] += Σ_j CW[t·terms + j] · W[ids[..]]·x[..], the MoE down projection and combine);
// ROUTE and SHARED (gather: the router in the kernel, the shared expert as one more slot or term) and
// NORM_OUT (plain: the normed x written too), see matvec-io.wgsl.

const WG: u32 = {{WG}}u;

// The row's products over its K values from x_base: .x = W·x, .y = W2·x (PAIR; else 0).
fn row_dot(row_byte: u32, x_base: u32) -> vec2<f32> {
  var acc = 0.0;
  var acc2 = 0.0;
  for (var c = 0u; c < p.chunks; c++) {
    let n = min(32u, p.k - 32u * c);
    let xv = x_chunk(x_base + 32u * c, n);
    let w = load_chunk(row_byte, c, n);
    var s = w[0] * xv[0];
//#unroll k 7
    s = fma(w[#k + 1u], xv[#k + 1u], s);
//#endunroll
    acc += f32(s.x) + f32(s.y) + f32(s.z) + f32(s.w);
//#if PAIR
    let w2 = load_chunk2(row_byte, c, n);
    var s2 = w2[0] * xv[0];
//#unroll k 7
    s2 = fma(w2[#k + 1u], xv[#k + 1u], s2);
//#endunroll
    acc2 += f32(s2.x) + f32(s2.y) + f32(s2.z) + f32(s2.w);
//#endif
  }
  return vec2<f32>(acc, acc2) * norm_end();
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = matvec_begin(wid.x) * WG + lid;
  let vec_index = wid.y;
  // s_rows: SHARED's row count (0 without), which a gate/up grid also covers (its slot checks its own below)
  if (row >= max(p.rows, p.s_rows)) {
    return; // no barrier follows, so a lane may leave early
  }
//#if COMBINE
  // token vec_index: Σ_j CW[slot] · (W[ids[slot]] · x[slot]) over its terms slots whose expert is in this part
  // (ROUTE: the router's experts and weights), then SHARED's term
  var sum = 0.0;
//#if ROUTE
  route(vec_index);
//#endif
  for (var j = 0u; j < p.terms; j++) {
    let slot = vec_index * p.terms + j;
//#if ROUTE
    let e = r_expert[j];
    let cw = r_weight[j];
//#else
    let e = ids[slot];
    let cw = CW[slot];
//#endif
    let first = e * p.rows;
    if (e < p.n_experts && first >= p.part_row0 && first < p.part_row_end) {
      sum += cw * row_dot((first - p.part_row0 + row) * p.row_bytes, slot * p.x_stride).x;
    }
  }
//#if SHARED
  if (p.part_row0 == 0u) {
    use_shared();
    sum += row_dot(row * p.row_bytes, p.s_x + vec_index * p.k).x;
  }
//#endif
  Y[vec_index * p.n_out + row] += sum;
//#else
//#if GATHER
  let sl = gather_slot(vec_index);
  if (!sl.in_part || row >= p.rows) {
    return;
  }
  let d = row_dot((sl.local0 + row) * p.row_bytes, sl.x_base);
//#else
  let d = row_dot(row * p.row_bytes, vec_index * p.x_stride);
//#endif
//#if PAIR
  let out = silu(d.x) * d.y;
//#else
  let out = d.x;
//#endif
//#if GATHER
  Y[sl.y_base + row] = out;
//#else
  let yi = vec_index * p.n_out + p.y_offset + row;
//#if ACCUMULATE
  Y[yi] += out;
//#else
  Y[yi] = out;
//#endif
//#if NORM_OUT
  // one invocation per row here: the rows of vector vec_index share its K normed values
  write_normed(vec_index * p.x_stride, vec_index * p.k, row, p.out_stride, row_norm_scale(vec_index * p.x_stride));
//#endif
//#endif
//#endif
}
