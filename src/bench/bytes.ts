/**
 * What one decoded token has to read, computed from the GGUF's own tensor sizes (not a hardware
 * counter — WebGPU has none):
 *   active weights = every tensor read in full, except token_embd (one row per token; read in full as
 *                    well where the file has no output.weight, since a tied head is token_embd) and the
 *                    routed experts `*_exps` (used ÷ experts of each, i.e. the k chosen experts); the
 *                    shared experts, router, indexer, attention and output head count in full;
 *   cache          = per layer, the index keys of every visible position (the indexer scores them all,
 *                    also in dense mode) plus the MLA latent rows attention reads: all visible rows
 *                    (dense) or min(top-k, visible) rows (sparse), all f32 as the engine stores them.
 */
import type { TensorInfo } from '../gguf/reader.ts';
import type { ModelConfig } from '../model/config.ts';
import { cacheFloatsPerToken } from '../engine/webgpu/kv-cache.ts';

export interface WeightBytes {
  /** every tensor in the file */
  total: number;
  /** read per decoded token (see the file comment) */
  active: number;
  /** of `active`: the routed experts' share */
  routedActive: number;
  /** all routed-expert tensors (the part the active count takes used ÷ experts of) */
  routedTotal: number;
}

export function weightBytes(c: ModelConfig, tensors: readonly TensorInfo[]): WeightBytes {
  let total = 0;
  let active = 0;
  let routedActive = 0;
  let routedTotal = 0;
  const frac = c.moe ? c.moe.used / c.moe.experts : 0;
  const tied = !tensors.some((t) => t.name === 'output.weight');
  for (const t of tensors) {
    total += t.byteLength;
    if (t.name === 'token_embd.weight') {
      active += t.byteLength / t.shape[1] + (tied ? t.byteLength : 0);
    } else if (/_exps\.weight$/.test(t.name)) {
      routedTotal += t.byteLength;
      routedActive += t.byteLength * frac;
      active += t.byteLength * frac;
    } else {
      active += t.byteLength;
    }
  }
  return { total, active, routedActive, routedTotal };
}

/** Cache bytes one decode step at 0-based position `pos` reads (nKv = pos + 1 visible rows). */
export function cacheReadBytes(c: ModelConfig, pos: number, topK: number): number {
  const f = cacheFloatsPerToken(c);
  const nKv = pos + 1;
  const rows = topK > 0 ? Math.min(topK, nKv) : nKv;
  return c.layers * 4 * (f.index * nKv + f.attention * rows);
}
