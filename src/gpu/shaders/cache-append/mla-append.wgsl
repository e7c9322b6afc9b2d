// MLA's cache append in one dispatch (the decode step's three small kernels after the projections):
//   ckv:  ckv_out[ckv_row0 + r, :] = RMSNorm(kv_a[r, 0:L]) · norm_w          kv_a [rows, L + R]
//   kpe:  kpe_out[kpe_row0 + r, :] = rope(kv_a[r, L:L+R], pos0 + r)           one "head" per row
//   q_pe: q_pe[r, h, :] = rope(q[r, h, q_offset : q_offset + R], pos0 + r)   q [rows, H, nope + rope]
//         (IN_PLACE: rotated back into q, for legacy MLA, which reads the whole q)
// RoPE with normal (adjacent) pairs, as rope.wgsl with NEOX off; rope_cos_sin comes from rope-math.wgsl.
// Workgroups 0 .. rows-1 norm one ckv row each; the rest run one thread per (row, head of H + 1, pair).
// MAIN: the kernel alone; without it, mla_append is called by mla-indexer-append.wgsl.

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> kv_a: array<f32>;
@group(0) @binding(2) var<storage, read> norm_w: array<f32>;
@group(0) @binding(3) var<storage, read_write> ckv_out: array<f32>;
@group(0) @binding(4) var<storage, read_write> kpe_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> q: array<f32>;
@group(0) @binding(6) var<storage, read_write> q_pe: array<f32>; // unused (a placeholder) with IN_PLACE

var<workgroup> partial: array<f32, WG>;

//#if MAIN
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  mla_append(wid.x + wid.y * nwg.x, lid);
}
//#endif

// Workgroup g's part of the append (g uniform within the workgroup, so the barrier below is too); p's
// fields are MLA_APPEND_PARAMS' (alone, or the first fields of the fused append's params).
fn mla_append(g: u32, lid: u32) {
  if (g < p.rows) {
    let base = g * p.kv_stride;
    var sum = 0.0;
    for (var i = lid; i < p.kv_lora; i += WG) {
      let v = kv_a[base + i];
      sum += v * v;
    }
    partial[lid] = sum;
    workgroupBarrier();
    var total = 0.0;
    for (var i = 0u; i < WG; i++) {
      total += partial[i];
    }
    let scale = inverseSqrt(total / f32(p.kv_lora) + p.eps);
    let out = (p.ckv_row0 + g) * p.kv_lora;
    for (var i = lid; i < p.kv_lora; i += WG) {
      ckv_out[out + i] = kv_a[base + i] * scale * norm_w[i];
    }
    return;
  }
  let half = p.n_dims / 2u;
  let idx = (g - p.rows) * WG + lid;
  if (idx >= p.rows * (p.heads + 1u) * half) {
    return;
  }
  let k = idx % half;
  let rh = idx / half;
  let h = rh % (p.heads + 1u);
  let r = rh / (p.heads + 1u);
  let cs = rope_cos_sin(p.pos0 + r, k, p.theta_scale, p.freq_scale, p.ext_factor, p.attn_factor, p.corr0, p.corr1);
  if (h == p.heads) {
    let i0 = r * p.kv_stride + p.kv_lora + 2u * k;
    let x0 = kv_a[i0];
    let x1 = kv_a[i0 + 1u];
    let j0 = (p.kpe_row0 + r) * p.n_dims + 2u * k;
    kpe_out[j0] = x0 * cs.x - x1 * cs.y;
    kpe_out[j0 + 1u] = x0 * cs.y + x1 * cs.x;
    return;
  }
  let i0 = r * p.q_row_stride + h * p.q_head_stride + p.q_offset + 2u * k;
  let x0 = q[i0];
  let x1 = q[i0 + 1u];
  if (IN_PLACE) {
    q[i0] = x0 * cs.x - x1 * cs.y;
    q[i0 + 1u] = x0 * cs.y + x1 * cs.x;
  } else {
    let j0 = (r * p.heads + h) * p.n_dims + 2u * k;
    q_pe[j0] = x0 * cs.x - x1 * cs.y;
    q_pe[j0 + 1u] = x0 * cs.y + x1 * cs.x;
  }
}
