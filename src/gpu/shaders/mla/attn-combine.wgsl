// Split-K attention, pass 2 of 2: one workgroup per (head, query) merges the chunks' (m, l, o):
//   M = max_c m_c,  L = Σ_c l_c e^(m_c - M),  o[q, h] = Σ_c e^(m_c - M) o_c / L
// Chunks with l = 0 (no visible candidate) are skipped (their o is never read). Also writes (M, L)
// per (q, h) for the attention-weights readout. out: [nq, H, dv]; dv in VT units.

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> part_ml: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> part_o: array<VT>;
@group(0) @binding(3) var<storage, read_write> out: array<VT>;
@group(0) @binding(4) var<storage, read_write> stats: array<vec2<f32>>; // [nq, H] (M, L)

var<workgroup> wc: array<f32, MAX_CHUNKS>;
var<workgroup> total: f32;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let lq = wid.y; // the query within this dispatch's group: its row of part_ml / part_o
  let q = p.q_base + lq;
  if (lid == 0u) {
    var m = -3.0e38;
    for (var c = 0u; c < p.n_chunks; c++) {
      let ml = part_ml[(lq * p.n_chunks + c) * p.n_heads + h];
      if (ml.y > 0.0) {
        m = max(m, ml.x);
      }
    }
    var l = 0.0;
    for (var c = 0u; c < p.n_chunks; c++) {
      let ml = part_ml[(lq * p.n_chunks + c) * p.n_heads + h];
      var w = 0.0;
      if (ml.y > 0.0) {
        w = exp(ml.x - m);
      }
      wc[c] = w;
      l += w * ml.y;
    }
    total = l;
    stats[q * p.n_heads + h] = vec2<f32>(m, l);
  }
  workgroupBarrier();
  var inv = 0.0;
  if (total > 0.0) {
    inv = 1.0 / total;
  }
  for (var d = lid; d < p.dv; d += WG) {
    var acc = VT(0.0);
    for (var c = 0u; c < p.n_chunks; c++) {
      let w = wc[c];
      if (w > 0.0) {
        acc += w * part_o[((lq * p.n_chunks + c) * p.n_heads + h) * p.dv + d];
      }
    }
    out[(q * p.n_heads + h) * p.dv + d] = acc * inv;
  }
}
