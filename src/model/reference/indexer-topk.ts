/**
 * The DSA indexer's top-k as llama.cpp takes it, ties included.
 *
 * llama.cpp (src/models/deepseek32.cpp) takes `ggml_top_k(indexer_score, min(n_kv, top_k))` over each
 * query's score row, where masked cells (later positions, empty cells) hold -inf. On the CPU that is
 * ggml-cpu/ops.cpp `ggml_compute_forward_top_k_f32`: the index array 0..n_kv-1 is partially sorted with
 * `std::partial_sort(tmp, tmp + k, tmp + n_kv, cmp)`, `cmp(a, b) = score[a] > score[b]` — values only,
 * no index tie-break. The kept set is then whatever libstdc++'s algorithm leaves in the first k slots:
 * `__heap_select` (make a heap of the first k with the SMALLEST score on top, then for each later
 * index whose score is strictly greater than the top's, pop the top and sift the newcomer in), followed
 * by `__sort_heap`, which only reorders the kept k. Among equal scores the winners are thus fixed by the
 * heap's shape, not by position. Exact ties are common: ReLU makes many scores exactly 0.
 *
 * The cells a query cannot see come after the visible ones (a fresh cache fills cells in position
 * order) and score -inf, which is never greater than anything, so they never enter the heap: running
 * the selection over the visible prefix 0..n-1 alone gives the same set. With n ≤ k every visible
 * position is kept.
 */

/**
 * Positions (ascending) that llama.cpp's top-k keeps from `scores[0..n)` (see the file comment).
 * Scores are compared with `>` only, so -0 equals +0 and NaN is never greater (as in C++).
 */
export function indexerTopK(scores: ArrayLike<number>, k: number, n: number = scores.length): number[] {
  if (k <= 0) return [];
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  const heap = heapSelect(scores, k, n);
  return heap.sort((a, b) => a - b);
}

/**
 * libstdc++'s `std::__heap_select(first, first + k, first + n, cmp)` on the index array 0..n-1 with
 * `cmp(a, b) = scores[a] > scores[b]`; returns the k indices left in the heap, in heap order.
 * Requires 0 < k < n.
 */
export function heapSelect(scores: ArrayLike<number>, k: number, n: number): number[] {
  const heap = Array.from({ length: k }, (_, i) => i);
  // ggml's cmp_top_k; with it as the heap order, the heap's top is a smallest score
  const greater = (a: number, b: number) => scores[a] > scores[b];

  // __adjust_heap: sift `value` into the hole at `hole` of heap[0..len): walk the hole down to a leaf,
  // always to the right child unless it is strictly greater than the left one, then (__push_heap)
  // move `value` back up while its parent is strictly greater. (Integer halving truncates, as in C++.)
  const adjust = (hole: number, len: number, value: number) => {
    const top = hole;
    let child = hole;
    while (child < Math.trunc((len - 1) / 2)) {
      child = 2 * (child + 1);
      if (greater(heap[child], heap[child - 1])) child--;
      heap[hole] = heap[child];
      hole = child;
    }
    if ((len & 1) === 0 && child === Math.trunc((len - 2) / 2)) {
      child = 2 * (child + 1);
      heap[hole] = heap[child - 1];
      hole = child - 1;
    }
    let parent = Math.trunc((hole - 1) / 2);
    while (hole > top && greater(heap[parent], value)) {
      heap[hole] = heap[parent];
      hole = parent;
      parent = Math.trunc((hole - 1) / 2);
    }
    heap[hole] = value;
  };

  // __make_heap: sift down every parent, from the last one to the root
  if (k >= 2) {
    for (let parent = Math.trunc((k - 2) / 2); parent >= 0; parent--) adjust(parent, k, heap[parent]);
  }
  // the scan (__pop_heap(first, middle, i)): a later index strictly greater than the top replaces it
  for (let i = k; i < n; i++) if (greater(i, heap[0])) adjust(0, k, i);
  return heap;
}
