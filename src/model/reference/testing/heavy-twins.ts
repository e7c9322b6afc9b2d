/**
 * The full-size twins of the heavy suite (npm run test:heavy; *.twin.heavy.ts): real widths, real
 * vocab sizes, files of GBs. SPARSESCOPE_TWINS=<label>,... picks some (labels below); default all.
 */
import { writeFixture } from '../../../tools/fixture/fixture.ts';
import { twinOptions, type TwinName, type TwinShrink } from '../../../tools/fixture/twins.ts';
import { typeName } from '../../../gguf/types.ts';

export interface HeavyTwin {
  label: string;
  name: TwinName;
  shrink: TwinShrink;
  /** the CPU reference dequantizes every tensor to f32: only where that fits in memory */
  cpu: boolean;
}

export const HEAVY_TWINS: HeavyTwin[] = [
  // all 27 layers at full width, 8 of the 64 experts, the real 102,400 vocab: ~2 GB; f32 would be ~12 GB
  { label: 'v2-lite-chat-q4_k_m', name: 'deepseek-v2-lite-chat', shrink: { experts: 8, mix: 'Q4_K_M' }, cpu: false },
  // the whole model: 32 layers, tied 128,256 × 2048 Q6_K embedding (206 MiB, over lavapipe's 128 MiB binding)
  { label: 'youtu-2b-q4_k_m', name: 'youtu-llm-2b', shrink: { mix: 'Q4_K_M' }, cpu: false },
  // attention and indexer at full size (7168 wide, 128 heads, 64 indexer heads × 128) in F32: one MoE
  // layer with 2 experts, 32,768 tokens so that token_embd / output are 940 MB tensors
  { label: 'v3.2-attention-f32', name: 'deepseek-v3.2', shrink: { layers: 1, experts: 2, vocab: 32768 }, cpu: true },
  // the same failure in seconds: 128 heads with the real top-k 2048 (narrow otherwise, a few MB).
  // WebGPU's split-K partial outputs are nq × ceil(top_k / CH) × heads × kv_lora × 4 bytes (CH = 2048 /
  // heads): 16 queries × 128 chunks × 128 × 512 × 4 = 512 MiB, over lavapipe's 128 MiB binding
  {
    label: 'v3.2-heads-topk-narrow',
    name: 'deepseek-v3.2',
    shrink: { layers: 1, experts: 2, vocab: 1024, dims: { embd: 256, qLora: 256, ffx: 256, indexerHeads: 4 } },
    cpu: true,
  },
];

export function selectedHeavyTwins(): HeavyTwin[] {
  const only = process.env.SPARSESCOPE_TWINS?.split(',').filter(Boolean);
  if (!only) return HEAVY_TWINS;
  const unknown = only.filter((l) => !HEAVY_TWINS.some((t) => t.label === l));
  if (unknown.length > 0) throw new Error(`SPARSESCOPE_TWINS: unknown ${unknown.join(', ')}; known: ${HEAVY_TWINS.map((t) => t.label).join(', ')}`);
  return HEAVY_TWINS.filter((t) => only.includes(t.label));
}

/** Writes the twin and keeps only what a comparison needs (the tensors' bytes are let go). */
export async function writeHeavyTwin(t: HeavyTwin, path: string): Promise<{ bos: number; vocab: number; layers: number; types: string; seconds: number }> {
  const t0 = performance.now();
  const fx = await writeFixture(path, twinOptions(t.name, { seed: 300, ...t.shrink }));
  return {
    bos: fx.bos,
    vocab: fx.config.vocab,
    layers: fx.config.layers,
    types: [...new Set(fx.tensors.map((x) => typeName(x.type)))].join(' '),
    seconds: (performance.now() - t0) / 1000,
  };
}

export function peakRssGiB(): string {
  return (process.resourceUsage().maxRSS / 1024 / 1024).toFixed(2);
}
