/**
 * The per-layer caches on the GPU, allocated once for the chosen context length.
 *   absorbed MLA: ckv [cap, kv_lora] + kpe [cap, rope]        (the shared latent: MQA over it)
 *   legacy MLA:   k [cap, H, nope+rope] + v [cap, H, v]       (plain MHA after attn_kv_b)
 *   DSA:          kI [cap, D_I]                               (one index key per token)
 *   dense GQA:    k [cap, HK, D] + v [cap, HK, D]             (roped keys and values per kv head)
 */
import type { ModelConfig } from '../../model/config.ts';
import type { DenseModelConfig } from '../../model/architectures/dense.ts';
import { createStorage } from '../../gpu/buffers.ts';

export interface LayerCache {
  ckv?: GPUBuffer;
  kpe?: GPUBuffer;
  k?: GPUBuffer;
  v?: GPUBuffer;
  kI?: GPUBuffer;
}

/** f32 values cached per token per layer, by kind. */
export function cacheFloatsPerToken(c: ModelConfig | DenseModelConfig): { attention: number; index: number } {
  if ('family' in c) return { attention: 2 * c.headsKv * c.headDim, index: 0 };
  const attention = c.mla === 'absorbed' ? c.kvLoraRank + c.qkRope : c.heads * (c.qkNope + c.qkRope + c.vHead);
  return { attention, index: c.indexer ? c.indexer.keyLength : 0 };
}

export function cacheBytes(c: ModelConfig | DenseModelConfig, capacity: number): { attention: number; index: number; total: number } {
  const f = cacheFloatsPerToken(c);
  const attention = f.attention * 4 * capacity * c.layers;
  const index = f.index * 4 * capacity * c.layers;
  return { attention, index, total: attention + index };
}

export function allocateCaches(device: GPUDevice, c: ModelConfig | DenseModelConfig, capacity: number): LayerCache[] {
  return Array.from({ length: c.layers }, (_, il) => {
    const L: LayerCache = {};
    if ('family' in c) {
      L.k = createStorage(device, capacity * c.headsKv * c.headDim * 4, `blk.${il}.cache.k`);
      L.v = createStorage(device, capacity * c.headsKv * c.headDim * 4, `blk.${il}.cache.v`);
      return L;
    }
    if (c.mla === 'absorbed') {
      L.ckv = createStorage(device, capacity * c.kvLoraRank * 4, `blk.${il}.cache.ckv`);
      L.kpe = createStorage(device, capacity * c.qkRope * 4, `blk.${il}.cache.kpe`);
    } else {
      L.k = createStorage(device, capacity * c.heads * (c.qkNope + c.qkRope) * 4, `blk.${il}.cache.k`);
      L.v = createStorage(device, capacity * c.heads * c.vHead * 4, `blk.${il}.cache.v`);
    }
    if (c.indexer) L.kI = createStorage(device, capacity * c.indexer.keyLength * 4, `blk.${il}.cache.kI`);
    return L;
  });
}

export function destroyCaches(caches: LayerCache[]): void {
  for (const L of caches) for (const b of Object.values(L)) (b as GPUBuffer | undefined)?.destroy();
}
