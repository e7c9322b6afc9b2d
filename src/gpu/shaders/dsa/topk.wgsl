// Top-k of each query's visible scores with llama.cpp's choice among ties, chosen positions written
// ascending: idx[q, 0..k) (NO_POSITION-padded when fewer than k are visible).
// One workgroup per query. Scores map to order-preserving u32 keys; a 4-pass 8-bit radix select finds the
// k-th largest key K* and how many copies of K* to take (`need`). When every copy of K* is taken the set
// is unique: a position-ordered compaction takes every key >= K*. Each thread owns a contiguous segment
// of positions, so scanning per-thread counts gives the output offsets in position order.
// When more copies of K* exist than are taken, which ones llama.cpp keeps is fixed by its algorithm:
// ggml_compute_forward_top_k_f32 runs std::partial_sort over the indices 0..n-1 comparing scores only,
// and libstdc++'s partial_sort keeps what its __heap_select leaves in the first k slots
// (src/model/reference/indexer-topk.ts). Then one thread replays that heap selection, using the
// query's idx row as the heap, and sorts the k positions ascending. (Masked positions, -inf in
// llama.cpp, come after the visible ones and never enter the heap, so only 0..n-1 are replayed.)
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
var<workgroup> sel_ties: u32; // 1 when more copies of K* exist than are taken

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

// ggml's cmp_top_k on positions a, b of the row: score[a] > score[b] (values only; -0 == +0).
fn greater(row: u32, a: u32, b: u32) -> bool {
  return scores[row + a] > scores[row + b];
}

// libstdc++'s __adjust_heap on the heap idx[out .. out + len) (its top is a smallest score): walk the
// hole from `top` down to a leaf, to the right child unless it is strictly greater than the left one,
// then (__push_heap) move `value` up while its parent is strictly greater.
fn adjust_heap(row: u32, out: u32, top: u32, len: u32, value: u32) {
  var hole = top;
  var child = top;
  while (child < (len - 1u) / 2u) {
    child = 2u * (child + 1u);
    if (greater(row, idx[out + child], idx[out + child - 1u])) {
      child -= 1u;
    }
    idx[out + hole] = idx[out + child];
    hole = child;
  }
  if ((len & 1u) == 0u && child == (len - 2u) / 2u) {
    child = 2u * (child + 1u);
    idx[out + hole] = idx[out + child - 1u];
    hole = child - 1u;
  }
  while (hole > top) {
    let parent = (hole - 1u) / 2u;
    if (!greater(row, idx[out + parent], value)) {
      break;
    }
    idx[out + hole] = idx[out + parent];
    hole = parent;
  }
  idx[out + hole] = value;
}

// std::__heap_select(first, first + k, first + n, cmp_top_k) over the positions 0..n-1 (0 < k < n).
fn heap_select(row: u32, out: u32, n: u32, k: u32) {
  for (var i = 0u; i < k; i++) {
    idx[out + i] = i;
  }
  if (k >= 2u) {
    var parent = (k - 2u) / 2u;
    loop {
      adjust_heap(row, out, parent, k, idx[out + parent]);
      if (parent == 0u) {
        break;
      }
      parent -= 1u;
    }
  }
  for (var i = k; i < n; i++) {
    if (greater(row, i, idx[out])) {
      adjust_heap(row, out, 0u, k, i);
    }
  }
}

// idx[out .. out + len) as a max-heap of positions: sift the entry at r down.
fn sift_max(out: u32, start: u32, len: u32) {
  var r = start;
  loop {
    var c = 2u * r + 1u;
    if (c >= len) {
      break;
    }
    if (c + 1u < len && idx[out + c + 1u] > idx[out + c]) {
      c += 1u;
    }
    let a = idx[out + r];
    let b = idx[out + c];
    if (a >= b) {
      break;
    }
    idx[out + r] = b;
    idx[out + c] = a;
    r = c;
  }
}

// Heapsort idx[out .. out + len) ascending (distinct positions).
fn sort_positions(out: u32, len: u32) {
  for (var s = len / 2u; s > 0u; s--) {
    sift_max(out, s - 1u, len);
  }
  for (var end = len; end > 1u; end--) {
    let t = idx[out];
    idx[out] = idx[out + end - 1u];
    idx[out + end - 1u] = t;
    sift_max(out, 0u, end - 1u);
  }
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
  let need = sel_need;  // copies of kth among the k largest

  // Per-thread counts over contiguous segments, for the position-ordered compaction.
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
    // Exclusive scan of the outputs before each segment (all keys >= kth); total copies of kth.
    var eq_total = 0u;
    var taken = 0u;
    for (var t = 0u; t < WG; t++) {
      let take = cnt_take[t] + cnt_eq[t];
      cnt_take[t] = taken;
      taken += take;
      eq_total += cnt_eq[t];
    }
    sel_ties = select(0u, 1u, eq_total > need);
  }
  workgroupBarrier();
  if (workgroupUniformLoad(&sel_ties) != 0u) {
    // Ties straddle the boundary: replay llama.cpp's heap selection (one thread; rare in trained models).
    if (lid == 0u) {
      heap_select(row, out, n, k);
      sort_positions(out, k);
    }
    return;
  }
  // every copy of K* is taken here
  var o = cnt_take[lid];
  for (var s = lo; s < hi; s++) {
    if (key_of(scores[row + s]) >= kth) {
      idx[out + o] = s;
      o += 1u;
    }
  }
}
