// What both decode matvec variants (matvec.wgsl, matvec-rows.wgsl) read and write, prepended to each by
// matvec.ts: the params, the bindings (weights W in GGUF blocks, x, y, the gather's expert ids, PAIR's second
// weight W2, NORM's RMSNorm weight G, MULTI's other matrices), matvec_begin (which matrix a workgroup of a
// MULTI dispatch computes), x_chunk (32 values of x as 8 vec4, zero past a float row's tail) and
// the SwiGLU gate.
// NORM (RMSNorm on load, so the norm needs no dispatch of its own): x rows are the un-normed h [K] and
// x_chunk returns h · G / sqrt(mean(h²) + eps). Each invocation computes its row's scale itself the first
// time it reads that row (K more reads of x, cached, next to the K weights it decodes), so every variant
// that reads x through x_chunk gets the norm without a change to its body. NORM_STREAM (a variant whose
// invocation reads each chunk of its row once, in order: matvec-rows.wgsl) skips that second pass: x_chunk
// sums the squares as it goes and the variant multiplies its row's sums by norm_end().

{{PARAMS}}

const TAIL: bool = {{TAIL}}; // a float row whose length is not a multiple of 32

//#if PRIVATE_P
@group(0) @binding(0) var<uniform> params: Params;
var<private> p: Params; // params with the fields of the matrix being read (MULTI's, or SHARED's), set by matvec_begin
var<private> w_sel: u32; // which weight binding load_chunk reads (blocks.ts): 0 → W
//#else
@group(0) @binding(0) var<uniform> p: Params;
//#endif
@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;
//#if X4
@group(0) @binding(2) var<storage, read> X: array<vec4<f32>>; // K % 4 == 0: 16-byte loads
//#else
@group(0) @binding(2) var<storage, read> X: array<f32>;
//#endif
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
//#if IDS
@group(0) @binding(4) var<storage, read> ids: array<u32>;
//#endif
//#if COMBINE
//#if IDS
@group(0) @binding(6) var<storage, read> CW: array<f32>; // [slots] each slot's combine weight (the router's)
//#endif
//#endif
//#if PAIR
//#if GATHER
@group(0) @binding(5) var<storage, read> W2: array<vec4<u32>>; // the second weight follows ids
//#else
@group(0) @binding(4) var<storage, read> W2: array<vec4<u32>>;
//#endif
//#endif
//#if MULTI
// MULTI: up to four matrices of one K that read the same x, in one dispatch (plain only, no PAIR): the grid's
// workgroups are matrix 0's, then matrix 1's, ...; matrix j is weight binding W (j = 0), W2, W3, W4 (bindings
// 4, 5, 6; each of its own quant type, load_chunk picks by w_sel) and writes y[v * n_out + y_offset + row].
@group(0) @binding(4) var<storage, read> W2: array<vec4<u32>>;
@group(0) @binding(5) var<storage, read> W3: array<vec4<u32>>;
@group(0) @binding(6) var<storage, read> W4: array<vec4<u32>>;
// ms[0][j]: one past matrix j's last workgroup (x); ms[1][j] its rows, ms[2][j] row_bytes, ms[3][j] y_offset,
// ms[4][j] n_out (the matvec.ts table)
@group(0) @binding(8) var<uniform> ms: array<vec4<u32>, 5>;

// Every variant calls this first with its workgroup's x: it returns the workgroup's x within its matrix and
// points p (rows, row_bytes, y_offset, n_out) and load_chunk at that matrix.
fn matvec_begin(gx: u32) -> u32 {
  p = params;
  var j = 0u;
  var first = 0u;
  for (; j < 3u && gx >= ms[0][j]; j++) {
    first = ms[0][j];
  }
  w_sel = j;
  p.rows = ms[1][j];
  p.row_bytes = ms[2][j];
  p.y_offset = ms[3][j];
  p.n_out = ms[4][j];
  return gx - first;
}
//#else
// Every variant calls this first with its workgroup's x (MULTI maps it into the workgroup's matrix).
fn matvec_begin(gx: u32) -> u32 {
//#if PRIVATE_P
  p = params;
//#endif
  return gx;
}
//#endif
//#if SHARED
// SHARED (gather): the MoE shared expert read by the same dispatch as the routed experts, from its own
// weights WS (and WS2 for PAIR: gate WS, up WS2), each of its own quant type (blocks.ts: load_chunk
// reads WS when w_sel is 1). Gate/up: each token's slots are its `terms` routed experts and then the
// shared one, which writes y[s_y + t·s_rows + row]. COMBINE: after the routed terms each h row adds
// WS_row · x[s_x + t·s_k ..] with weight 1. Only the first part's dispatch (part_row0 0) reads it.
@group(0) @binding(9) var<storage, read> WS: array<vec4<u32>>;
//#if PAIR
@group(0) @binding(10) var<storage, read> WS2: array<vec4<u32>>;
//#endif

// Points p and load_chunk at the shared expert's matrix [s_k → s_rows].
fn use_shared() {
  w_sel = 1u;
  p.rows = p.s_rows;
  p.row_bytes = p.s_row_bytes;
  p.k = p.s_k;
  p.chunks = p.s_chunks;
}
//#endif
//#if GATHER
//#if !COMBINE
// A gathered (not COMBINE) slot: whether its weights are in this part, its expert's first row within the
// part, its x row start and its y row start (y[y_base + row]). SHARED: vec_index runs over terms + 1 slots
// per token, the last one the shared expert (p then describes WS). ROUTE: the expert is the router's
// choice, computed here (matvec-route.wgsl), not read from ids.
struct Slot {
  in_part: bool,
  local0: u32,
  x_base: u32,
  y_base: u32,
}

fn gather_slot(vec_index: u32) -> Slot {
  var s: Slot;
//#if SHARED
  let per = p.terms + 1u;
  let t = vec_index / per;
  let j = vec_index % per;
  if (j == p.terms) {
    use_shared();
    s.in_part = p.part_row0 == 0u;
    s.local0 = 0u;
    s.x_base = t * p.x_stride;
    s.y_base = p.s_y + t * p.rows;
    return s;
  }
  let slot = t * p.terms + j;
//#else
  let slot = vec_index;
//#endif
//#if ROUTE
  route(slot / p.terms);
  let e = r_expert[slot % p.terms];
//#else
  let e = ids[slot];
//#endif
  let first = e * p.rows;
  s.in_part = e < p.n_experts && first >= p.part_row0 && first < p.part_row_end;
  s.local0 = select(0u, first - p.part_row0, s.in_part);
  s.x_base = (slot / p.x_div) * p.x_stride;
  s.y_base = slot * p.rows;
  return s;
}
//#endif
//#endif
//#if NORM
//#if X4
@group(0) @binding(7) var<storage, read> G: array<vec4<f32>>; // [K] the norm weight (K % 4 == 0: 16-byte loads)
//#else
@group(0) @binding(7) var<storage, read> G: array<f32>; // [K] the norm weight
//#endif

var<private> norm_row: u32 = 0xffffffffu; // first x index of the row norm_scale belongs to
var<private> norm_scale: f32 = 0.0;
//#if NORM_STREAM
var<private> norm_ss: vec4<f32> = vec4<f32>(0.0); // Σ x² of the chunks read so far (four lanes)
//#endif

// x[i] as one f32, whichever way X is declared.
fn x_at(i: u32) -> f32 {
//#if X4
  return X[i >> 2u][i & 3u];
//#else
  return X[i];
//#endif
}

// A variant whose threads share a row can compute its scale together and hand it to x_chunk here
// (matvec.wgsl does: otherwise each of its WG threads would read the whole row).
fn set_norm_scale(row0: u32, sum_sq: f32) {
  norm_row = row0;
  norm_scale = inverseSqrt(sum_sq / f32(p.k) + p.norm_eps);
}

// 1 / sqrt(mean(x[row0 .. row0 + K)²) + eps), summed in f32 four lanes at a time.
fn row_norm_scale(row0: u32) -> f32 {
  var s = vec4<f32>(0.0);
//#if X4
  for (var i = 0u; i < p.k / 4u; i++) {
    let v = X[(row0 >> 2u) + i];
    s = fma(v, v, s);
  }
//#else
  var i = 0u;
  for (; i + 4u <= p.k; i += 4u) {
    let v = vec4<f32>(X[row0 + i], X[row0 + i + 1u], X[row0 + i + 2u], X[row0 + i + 3u]);
    s = fma(v, v, s);
  }
  for (; i < p.k; i++) {
    s.x = fma(X[row0 + i], X[row0 + i], s.x);
  }
//#endif
  return inverseSqrt((s.x + s.y + s.z + s.w) / f32(p.k) + p.norm_eps);
}
//#endif

fn x_chunk(base: u32, n: u32) -> array<vec4<T>, 8> {
  var xv: array<vec4<T>, 8>;
//#if NORM
  // x rows are x_stride (== K) apart; a new row's start is found once per row, not per chunk: a per-lane
  // modulo is scalarised by llvmpipe (it cost ~1.8 ms a token on the bench model)
  if (base < norm_row || base >= norm_row + p.k) {
    norm_row = base - base % p.x_stride;
//#if !NORM_STREAM
    norm_scale = row_norm_scale(norm_row);
//#endif
  }
  let g0 = base - norm_row;
//#endif
//#unroll k 8
  {
//#if X4
    var v = X[(base >> 2u) + #k];
//#else
    var v = vec4<f32>(X[base + 4u * #k], X[base + 4u * #k + 1u], X[base + 4u * #k + 2u], X[base + 4u * #k + 3u]);
//#endif
    if (TAIL) {
      v = select(vec4<f32>(0.0), v, vec4<u32>(4u * #k) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(n));
    }
//#if NORM
    // past a tail G reads clamp in bounds (v is zero there)
//#if X4
    let g = G[(g0 >> 2u) + #k];
//#else
    let g = vec4<f32>(G[g0 + 4u * #k], G[g0 + 4u * #k + 1u], G[g0 + 4u * #k + 2u], G[g0 + 4u * #k + 3u]);
//#endif
//#if NORM_STREAM
    norm_ss = fma(v, v, norm_ss);
    v *= g;
//#else
    v *= g * norm_scale;
//#endif
//#endif
    xv[#k] = vec4<T>(v);
  }
//#endunroll
  return xv;
}

// What a row's sums are multiplied by at its end: 1, except with NORM_STREAM, where x_chunk applied only
// the norm weight and summed the squares of the raw x it read (the variant read every chunk of the row
// once, in one invocation): the row's 1 / rms, and the sum is reset for the next row.
fn norm_end() -> f32 {
//#if NORM_STREAM
  let s = inverseSqrt((norm_ss.x + norm_ss.y + norm_ss.z + norm_ss.w) / f32(p.k) + p.norm_eps);
  norm_ss = vec4<f32>(0.0);
  return s;
//#else
  return 1.0;
//#endif
}

//#if NORM_OUT
// NORM_OUT (plain, with NORM): the dispatch also writes the normed rows XN [m, K] = h · G · scale for later
// dispatches that read the norm's output as plain x (a MoE layer's experts after its router matvec), so
// the norm needs no dispatch of its own. The invocations share each row: this one writes indices i0,
// i0 + stride, ... (stride 0: not this dispatch, e.g. a second part's).
@group(0) @binding(12) var<storage, read_write> XN: array<f32>;

fn g_at(i: u32) -> f32 {
//#if X4
  return G[i >> 2u][i & 3u];
//#else
  return G[i];
//#endif
}

fn write_normed(x_base: u32, out_base: u32, i0: u32, stride: u32, scale: f32) {
  if (stride == 0u) {
    return;
  }
  for (var i = i0; i < p.k; i += stride) {
    XN[out_base + i] = x_at(x_base + i) * scale * g_at(i);
  }
}
//#endif

// As swiglu.wgsl: exp(-g) overflows to +inf for g < -88; the clamp keeps it finite.
fn silu(g: f32) -> f32 {
  return g / (1.0 + exp(min(-g, 80.0)));
}
