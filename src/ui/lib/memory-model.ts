/**
 * KV-cache bytes from a model's sizes: what MLA (one shared latent + one rotary key per token per layer)
 * and DSA's index keys cost, against the same model with plain multi-head attention and with GQA.
 * Pure, so the Memory view and its unit test agree on the arithmetic (docs/model-math.md).
 */
import type { ModelShape } from '../../api/protocol.ts';

export interface CacheBytes {
  /** Values cached per token per layer. */
  perTokenLayer: { mla: number; indexKeys: number; mha: number; gqa: number };
  /** Bytes for `tokens` tokens over all layers. */
  mla: number;
  indexKeys: number;
  mha: number;
  gqa: number;
  gqaGroups: number;
}

/** DeepSeek-V3.2's sizes, from its published config (docs/model-math.md). */
export const DEEPSEEK_V32: ModelShape = {
  layers: 61,
  embedding: 7168,
  heads: 128,
  qLoraRank: 1536,
  kvLoraRank: 512,
  nopeDim: 128,
  ropeDim: 64,
  vDim: 128,
  indexerHeads: 64,
  indexerDim: 128,
  indexerTopK: 2048,
  experts: 256,
  expertsUsed: 8,
  sharedExperts: 1,
  leadingDenseLayers: 3,
  contextLength: 131072,
};

/**
 * @param bytesPerValue 2 for bf16/f16 caches, 4 for f32.
 * @param gqaGroups key/value heads of the GQA comparison; default heads/16 (8 for 128 heads), at least 1.
 */
export function cacheBytes(shape: ModelShape, tokens: number, bytesPerValue: number, gqaGroups?: number): CacheBytes {
  const groups = gqaGroups ?? Math.max(1, Math.round(shape.heads / 16));
  const keyDim = shape.nopeDim + shape.ropeDim;
  const per = {
    // MLA caches the normed latent ckv and the one rotary key kpe shared by all heads.
    mla: shape.kvLoraRank + shape.ropeDim,
    // DSA adds one indexer key per token per layer, shared by all indexer heads.
    indexKeys: shape.indexerDim ?? 0,
    // Plain MHA caches a full key and value per head.
    mha: shape.heads * (keyDim + shape.vDim),
    gqa: groups * (keyDim + shape.vDim),
  };
  const scale = tokens * shape.layers * bytesPerValue;
  return {
    perTokenLayer: per,
    mla: per.mla * scale,
    indexKeys: per.indexKeys * scale,
    mha: per.mha * scale,
    gqa: per.gqa * scale,
    gqaGroups: groups,
  };
}

/** 1536 → "1.5 KiB": binary units, three significant digits. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toPrecision(3)} ${units[i]}`;
}
