// Quantized matrix-vector product, bandwidth-bound decode path: y[n] = sum_k W[n, k] * x[k], with W
// read in place in its GGUF block format (blocks.wgsl) from one part of a GpuTensor.
// One workgroup computes ROWS consecutive rows; its WG threads stride over the row's 32-value chunks,
// each x chunk is loaded once and used for all ROWS rows; per-thread sums are reduced with subgroupAdd
// (SUBGROUPS) or a shared-memory tree. Arithmetic within a chunk is in T (f32, or f16 when enabled),
// accumulation across chunks in f32.
//   plain  (GATHER off): grid (ceil(rows / ROWS), M); vector m: x[m*K ..], y[m*n_out + y_offset + row]
//   gather (GATHER on) : grid (ceil(N / ROWS), slots); slot j uses expert ids[j] of a [K, N, X] tensor,
//                        x row j / x_div, y[j*N + row]; workgroups whose expert is in another part
//                        (or out of range) read no weights.
// Epilogues, so the next kernel need not run:
//   PAIR       a second weight W2 of the same shape and type (binding 4, or 5 after a gather's ids): y = silu(W x) * (W2 x), the
//              gate, up and SwiGLU of an FFN in one dispatch;
//   ACCUMULATE y += W x, the residual add (plain only; each y element has one writer);
//   COMBINE    (gather) the MoE down projection and weighted combine: grid (ceil(N / ROWS), tokens), token t
//              adds Σ_j CW[t·terms + j] · (W[ids[t·terms + j]] · x[t·terms + j]) to y[t·n_out + row] (each part's
//              dispatch adds its experts' terms; no float atomics: one writer per y element).
//   ROUTE, SHARED (gather) the router's choice computed in the kernel (matvec-route.wgsl) and the shared
//              expert as one more slot (gate/up) or term (COMBINE); NORM_OUT the normed x written (matvec-io.wgsl).

const WG: u32 = {{WG}}u;
const ROWS: u32 = {{ROWS}}u;

var<workgroup> red: array<f32, ROWS * WG>;
//#if PAIR
var<workgroup> red2: array<f32, ROWS * WG>;
//#endif

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
//#if SUBGROUPS
  @builtin(subgroup_invocation_id) sg_lane: u32,
  @builtin(subgroup_size) sg_size: u32,
//#endif
) {
  let row0 = matvec_begin(wid.x) * ROWS;
  let vec_index = wid.y;
  var acc: array<f32, ROWS>;
//#if PAIR
  var acc2: array<f32, ROWS>;
//#endif
//#if COMBINE
  // token vec_index's terms slots, each expert's partial sums weighted by CW before the one reduction
  // (ROUTE: the router's experts and weights); SHARED adds one more term, the shared expert's, weight 1
//#if ROUTE
  route(vec_index);
//#endif
//#if SHARED
  let n_terms = p.terms + 1u;
//#else
  let n_terms = p.terms;
//#endif
  for (var j = 0u; j < n_terms; j++) {
  var in_part: bool;
  var local0 = 0u;
  var x_base: u32;
  var wj = 1.0;
  if (j < p.terms) {
    let slot = vec_index * p.terms + j;
//#if ROUTE
    let e = r_expert[j];
    wj = r_weight[j];
//#else
    let e = ids[slot];
    wj = CW[slot];
//#endif
    let first = e * p.rows;
    in_part = e < p.n_experts && first >= p.part_row0 && first < p.part_row_end;
    local0 = select(0u, first - p.part_row0, in_part);
    x_base = slot * p.x_stride;
  } else {
//#if SHARED
    use_shared();
    in_part = p.part_row0 == 0u;
    x_base = p.s_x + vec_index * p.k;
//#endif
  }
  let chunk_end = select(0u, p.chunks, in_part);
//#else
  let wj = 1.0;
//#if GATHER
  // Expert e's rows are rows e*N .. e*N+N-1 of the flattened tensor; this part holds [part_row0, part_row_end).
  // SHARED: p describes the shared expert's matrix from here on when this is its slot
  let sl = gather_slot(vec_index);
  let in_part = sl.in_part;
  let local0 = sl.local0;
  let x_base = sl.x_base;
  let chunk_end = select(0u, p.chunks, in_part);
//#else
  let local0 = 0u;
  let x_base = vec_index * p.x_stride;
  let chunk_end = p.chunks;
//#endif
//#if NORM
  // RMSNorm on load: the row's scale computed by the workgroup together (x_chunk's own would have each
  // thread read all K values): strided squares, one barrier, every thread sums the WG partials
  {
    var ss = 0.0;
    for (var i = lid; i < p.k; i += WG) {
      let v = x_at(x_base + i);
      ss = fma(v, v, ss);
    }
    red[lid] = ss;
    workgroupBarrier();
    var total = 0.0;
    for (var i = 0u; i < WG; i++) {
      total += red[i];
    }
    set_norm_scale(x_base, total);
    workgroupBarrier(); // red is written again by the reduction below
//#if NORM_OUT
    write_normed(x_base, vec_index * p.k, wid.x * WG + lid, p.out_stride, norm_scale);
//#endif
  }
//#endif
//#endif

  // Rows past the end re-read the last row (never written back) so loads stay in bounds.
  var row_byte: array<u32, ROWS>;
//#unroll r {{ROWS}}
  row_byte[#r] = (local0 + min(row0 + #r, p.rows - 1u)) * p.row_bytes;
//#endunroll

  for (var c = lid; c < chunk_end; c += WG) {
    let n = min(32u, p.k - 32u * c);
    let xv = x_chunk(x_base + 32u * c, n);
//#unroll r {{ROWS}}
    {
      let w = load_chunk(row_byte[#r], c, n);
      var s = w[0] * xv[0];
//#unroll k 7
      s = fma(w[#k + 1u], xv[#k + 1u], s);
//#endunroll
      acc[#r] += wj * (f32(s.x) + f32(s.y) + f32(s.z) + f32(s.w));
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

//#if COMBINE
  }
//#endif

//#if SUBGROUPS
  let n_sg = (WG + sg_size - 1u) / sg_size;
//#unroll r {{ROWS}}
  {
    let v = subgroupAdd(acc[#r]);
//#if PAIR
    let v2 = subgroupAdd(acc2[#r]);
//#endif
    if (sg_lane == 0u) {
      red[#r * WG + lid / sg_size] = v;
//#if PAIR
      red2[#r * WG + lid / sg_size] = v2;
//#endif
    }
  }
//#endunroll
  workgroupBarrier();
  if (lid < ROWS) {
    var total = 0.0;
    for (var i = 0u; i < n_sg; i++) {
      total += red[lid * WG + i];
    }
    red[lid * WG] = total;
//#if PAIR
    var total2 = 0.0;
    for (var i = 0u; i < n_sg; i++) {
      total2 += red2[lid * WG + i];
    }
    red2[lid * WG] = total2;
//#endif
  }
//#else
  // One barrier, then one thread per row sums the row's WG partials: llvmpipe compiles every extra
  // barrier (a tree reduction) into seconds of shader compile time.
//#unroll r {{ROWS}}
  red[#r * WG + lid] = acc[#r];
//#if PAIR
  red2[#r * WG + lid] = acc2[#r];
//#endif
//#endunroll
  workgroupBarrier();
  if (lid < ROWS) {
    var total = 0.0;
    for (var i = 0u; i < WG; i++) {
      total += red[lid * WG + i];
    }
    red[lid * WG] = total;
//#if PAIR
    var total2 = 0.0;
    for (var i = 0u; i < WG; i++) {
      total2 += red2[lid * WG + i];
    }
    red2[lid * WG] = total2;
//#endif
  }
//#endif
  if (lid < ROWS && row0 + lid < p.rows) {
//#if PAIR
    let out = silu(red[lid * WG]) * red2[lid * WG];
//#else
    let out = red[lid * WG];
//#endif
//#if COMBINE
    Y[vec_index * p.n_out + row0 + lid] += out;
//#else
//#if GATHER
    if (in_part) {
      Y[sl.y_base + row0 + lid] = out;
    }
//#else
    let yi = vec_index * p.n_out + p.y_offset + row0 + lid;
//#if ACCUMULATE
    Y[yi] += out;
//#else
    Y[yi] = out;
//#endif
//#endif
//#endif
  }
}
