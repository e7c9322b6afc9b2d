// Exact top-k of each query's visible scores, ties to the EARLIER position, chosen positions written
// ascending: idx[q, 0..k) (NO_POSITION-padded when fewer than k are visible).
// One workgroup per query. Scores map to order-preserving u32 keys; a 4-pass 8-bit radix select finds the
// k-th largest key K* and how many copies of K* to take (`need`); then a position-ordered compaction takes
// every key > K* and the first `need` keys == K*. Each thread owns a contiguous segment of positions, so
// scanning per-thread counts gives both the tie ranks and the output offsets in position order.
// scores: [nq, score_stride]; visible n = min(n_kv, q_pos0 + q + 1).

{{PARAMS}}
{{CONSTS}}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read_write> idx: array<u32>;

const NONE: u32 = 0xFFFFFFFFu;

var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> cnt_eq: array<u32, WG>;
var<workgroup> cnt_take: array<u32, WG>;
var<workgroup> sel_prefix: u32;
var<workgroup> sel_need: u32;

// Larger score -> larger key; -0 and +0 are the same key.
fn key_of(x: f32) -> u32 {
  var u = bitcast<u32>(x);
  if (x == 0.0) {
    u = 0u;
  }
  if ((u & 0x80000000u) != 0u) {
    return ~u;
  }
  return u | 0x80000000u;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let q = wid.x;
  let n = min(p.n_kv, p.q_pos0 + q + 1u);
  let k = p.k;
  let row = q * p.score_stride;
  let out = q * k;

  if (n <= k) {
    // Everything visible is chosen.
    for (var i = lid; i < k; i += WG) {
      var s = NONE;
      if (i < n) {
        s = i;
      }
      idx[out + i] = s;
    }
    return; // uniform: n and k are the same for the whole workgroup
  }

  if (lid == 0u) {
    sel_prefix = 0u;
    sel_need = k;
  }
  var mask = 0u;
  for (var pass_i = 0u; pass_i < 4u; pass_i++) {
    let shift = 24u - 8u * pass_i;
    atomicStore(&hist[lid % 256u], 0u);
    if (WG < 256u) {
      for (var b = lid + WG; b < 256u; b += WG) {
        atomicStore(&hist[b], 0u);
      }
    }
    workgroupBarrier();
    let prefix = sel_prefix;
    for (var s = lid; s < n; s += WG) {
      let key = key_of(scores[row + s]);
      if ((key & mask) == prefix) {
        atomicAdd(&hist[(key >> shift) & 255u], 1u);
      }
    }
    workgroupBarrier();
    if (lid == 0u) {
      // Walk the bins from the largest digit down until the remaining need is covered.
      var need = sel_need;
      var b = 255i;
      loop {
        let c = atomicLoad(&hist[u32(b)]);
        if (c >= need || b == 0i) {
          break;
        }
        need -= c;
        b -= 1i;
      }
      sel_prefix = prefix | (u32(b) << shift);
      sel_need = need;
    }
    mask |= 255u << shift;
    workgroupBarrier();
  }
  let kth = sel_prefix; // the k-th largest key
  let need = sel_need;  // copies of kth to take, earliest first

  // Position-ordered compaction.
  let seg = (n + WG - 1u) / WG;
  let lo = min(n, lid * seg);
  let hi = min(n, lo + seg);
  var gt = 0u;
  var eq = 0u;
  for (var s = lo; s < hi; s++) {
    let key = key_of(scores[row + s]);
    gt += select(0u, 1u, key > kth);
    eq += select(0u, 1u, key == kth);
  }
  cnt_eq[lid] = eq;
  cnt_take[lid] = gt;
  workgroupBarrier();
  if (lid == 0u) {
    // Exclusive scans: equal keys before each segment (tie ranks), then outputs before each segment.
    var eq_before = 0u;
    var taken = 0u;
    for (var t = 0u; t < WG; t++) {
      let e = cnt_eq[t];
      let take_eq = min(e, need - min(need, eq_before));
      let take = cnt_take[t] + take_eq;
      cnt_eq[t] = eq_before;
      cnt_take[t] = taken;
      eq_before += e;
      taken += take;
    }
  }
  workgroupBarrier();
  var rank = cnt_eq[lid];
  var o = cnt_take[lid];
  for (var s = lo; s < hi; s++) {
    let key = key_of(scores[row + s]);
    var take = key > kth;
    if (key == kth) {
      take = rank < need;
      rank += 1u;
    }
    if (take) {
      idx[out + o] = s;
      o += 1u;
    }
  }
}
