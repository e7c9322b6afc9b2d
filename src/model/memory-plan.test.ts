/**
 * The memory plan against independent arithmetic: cache bytes as kv-cache.ts computes them, weights
 * as the file's tensor sizes (in-place types) or 4 bytes a value (converted types), and `cli inspect`
 * on a > 4 GB DeepSeek-V2-Lite-Chat-shaped sparse file (header + tensor infos, data a hole): the plan
 * covers at least the weights, the context is sized down from 163,840, and no tensor byte is read
 * (the child's peak RSS stays far below the file).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GgmlType, tensorByteLength } from '../gguf/types.ts';
import { writeSparseGguf } from '../gguf/write-file.ts';
import type { GgufMetadataEntry } from '../gguf/writer.ts';
import { cacheBytes } from '../engine/webgpu/kv-cache.ts';
import { readModelConfig } from './config.ts';
import { planMemory } from './memory-plan.ts';
import { expectedTensors } from './weights-spec.ts';

const run = promisify(execFile);

/** DeepSeek-V2-Lite-Chat's published config as llama.cpp's converter writes it (absorbed MLA keys). */
function v2LiteChatMetadata(d: Partial<Record<'layers' | 'context' | 'embd' | 'ffn' | 'heads' | 'vocab' | 'experts' | 'ffx', number>> = {}): GgufMetadataEntry[] {
  const u32 = (key: string, value: number): GgufMetadataEntry => ({ key: `deepseek2.${key}`, type: 'u32', value });
  const f32 = (key: string, value: number): GgufMetadataEntry => ({ key: `deepseek2.${key}`, type: 'f32', value });
  return [
    { key: 'general.architecture', type: 'string', value: 'deepseek2' },
    { key: 'general.name', type: 'string', value: 'DeepSeek-V2-Lite-Chat (shape only)' },
    u32('block_count', d.layers ?? 27), u32('context_length', d.context ?? 163840), u32('embedding_length', d.embd ?? 2048), u32('feed_forward_length', d.ffn ?? 10944),
    u32('attention.head_count', d.heads ?? 16), u32('attention.head_count_kv', 1), f32('rope.freq_base', 10000), f32('attention.layer_norm_rms_epsilon', 1e-6),
    u32('expert_used_count', 6), u32('leading_dense_block_count', 1), u32('vocab_size', d.vocab ?? 102400), u32('attention.kv_lora_rank', 512),
    u32('attention.key_length', 576), u32('attention.value_length', 512), u32('attention.key_length_mla', 192), u32('attention.value_length_mla', 128),
    u32('expert_feed_forward_length', d.ffx ?? 1408), u32('expert_count', d.experts ?? 64), u32('expert_shared_count', 2), f32('expert_weights_scale', 1),
    u32('rope.dimension_count', 64), { key: 'deepseek2.rope.scaling.type', type: 'string', value: 'yarn' }, f32('rope.scaling.factor', 40),
    u32('rope.scaling.original_context_length', 4096), f32('rope.scaling.yarn_log_multiplier', 0.0707),
  ];
}

/** config and tensor infos (with `type(shape)`, offsets unused) of a V2-Lite-Chat-shaped file */
function shaped(metadata: GgufMetadataEntry[], type: (shape: readonly number[]) => number) {
  const plain = Object.fromEntries(metadata.map((e) => [e.key, e.value]));
  const embd = plain['deepseek2.embedding_length'] as number, vocab = plain['deepseek2.vocab_size'] as number;
  const config = readModelConfig(plain, [{ name: 'token_embd.weight', shape: [embd, vocab] }, { name: 'output.weight', shape: [embd, vocab] }]);
  const infos = expectedTensors(config).filter((s) => !s.optional || s.name === 'output.weight').map((s) => ({ name: s.name, type: type(s.shape), shape: [...s.shape] }));
  const tensors = infos.map((t, i) => ({ ...t, offset: i, byteLength: tensorByteLength(t.type, t.shape) }));
  return { config, infos, tensors };
}

/** Q4_K where a row is whole 256-value blocks, Q8_0 otherwise (llama.cpp's fallback), F32 vectors. */
function q4kMix(shape: readonly number[]): number {
  if (shape.length === 1) return GgmlType.F32;
  return shape[0] % 256 === 0 ? GgmlType.Q4_K : GgmlType.Q8_0;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-plan-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('planMemory', () => {
  const small = { layers: 3, context: 4096, embd: 256, ffn: 512, heads: 4, vocab: 512, experts: 8, ffx: 256 };

  it('weights as uploaded and caches as kv-cache.ts allocates them, on small shapes', () => {
    const inPlace = new Set<number>([GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K]);
    for (const matrixType of [GgmlType.Q8_0, GgmlType.Q4_1]) {
      const { config, tensors } = shaped(v2LiteChatMetadata(small), (shape) => (shape.length === 1 ? GgmlType.F32 : matrixType));
      const p = planMemory(config, tensors, { context: 64 });
      // independent: 1-D as f32; a matrix as its bytes when a kernel reads the type, else 4 bytes a value
      const naive = tensors.reduce((a, t) => a + (t.shape.length === 1 || !inPlace.has(t.type) ? t.shape.reduce((x, y) => x * y, 1) * 4 : t.byteLength), 0);
      expect(p.weights.gpuBytes).toBeGreaterThanOrEqual(naive);
      expect(p.weights.gpuBytes).toBeLessThanOrEqual(naive + 16 * tensors.length);
      expect(p.weights.converted.length > 0).toBe(matrixType === GgmlType.Q4_1);
      expect(p.cache.context).toBe(64);
      expect(p.cache.atContext).toBe(cacheBytes(config, 64).total);
      expect(p.cache.atFileContext).toBe(cacheBytes(config, config.contextLength).total);
      expect(p.totalBytes).toBe(p.weights.gpuBytes + p.cache.atContext + p.scratchBytes);
      expect(p.fits).toBe(true);
    }
  });

  it('sizes the context down to a memory budget or the binding limit, and says when nothing fits', () => {
    const { config, tensors } = shaped(v2LiteChatMetadata(small), q4kMix);
    const whole = planMemory(config, tensors, { context: 4096 });
    const limits = { maxStorageBufferBindingSize: 2 ** 27, maxBufferSize: 2 ** 28 };
    const budget = whole.totalBytes - Math.floor(whole.cache.atContext / 2);
    const p = planMemory(config, tensors, { context: 4096, limits: { ...limits, memoryBytes: budget } });
    expect(p.cache.limitedBy).toBe('memory');
    expect(p.cache.context).toBeLessThan(4096);
    expect(p.cache.context % 256).toBe(0);
    expect(p.totalBytes).toBeLessThanOrEqual(budget);
    // one more step would not have fitted
    expect(planMemory(config, tensors, { context: p.cache.context + 256, limits }).totalBytes).toBeGreaterThan(budget);
    const none = planMemory(config, tensors, { limits: { ...limits, memoryBytes: whole.weights.gpuBytes } });
    expect(none.fits).toBe(false);
    // a tiny binding limit: per-layer ckv [ctx, 512] f32 must fit one binding
    const tight = planMemory(config, tensors, { context: 4096, limits: { maxStorageBufferBindingSize: 2 ** 20, maxBufferSize: 2 ** 20 } });
    expect(tight.cache.limitedBy).toBe('binding');
    expect(tight.cache.context * 512 * 4).toBeLessThanOrEqual(2 ** 20);
  });
});

describe('cli inspect on a sparse > 4 GB V2-Lite-Chat-shaped file', () => {
  it('plans its memory without reading tensor data', async () => {
    const metadata = v2LiteChatMetadata();
    const { config, infos: tensors } = shaped(metadata, q4kMix);
    const path = join(dir, 'v2-lite-chat-shape.gguf');
    const size = await writeSparseGguf(path, { metadata, tensors });
    expect(size).toBeGreaterThan(4 * 2 ** 30);
    const weights = tensors.reduce((a, t) => a + tensorByteLength(t.type, t.shape), 0);

    const t0 = performance.now();
    const r = await run(process.execPath, ['--import', 'tsx', '--import', './scripts/wgsl-register.mjs', '--import', './src/model/testing/print-max-rss.mjs', 'src/cli/main.ts', 'inspect', path], { maxBuffer: 1 << 27 });
    const seconds = (performance.now() - t0) / 1000;
    const j = JSON.parse(r.stdout);
    const rss = Number(/max-rss-bytes (\d+)/.exec(r.stderr)?.[1]);
    console.log(`cli inspect, ${(size / 1e9).toFixed(2)} GB sparse V2-Lite-Chat-shaped file: ${seconds.toFixed(1)} s, peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB; plan: weights ${(j.memory.weights.gpuBytes / 1e9).toFixed(2)} GB on the GPU, context ${j.memory.cache.context} of ${j.memory.cache.fileContext}, total ${(j.memory.totalBytes / 1e9).toFixed(2)} GB`);
    expect(j.config.layers).toBe(27);
    expect(j.memory.weights.gpuBytes).toBeGreaterThanOrEqual(weights);
    expect(j.memory.totalBytes).toBeGreaterThanOrEqual(size - 2 ** 20);
    expect(j.memory.cache.fileContext).toBe(163840);
    expect(j.memory.cache.atFileContext).toBe(cacheBytes(config, 163840).total);
    expect(j.memory.cache.context).toBeLessThan(163840);
    expect(j.memory.largestBinding.bytes).toBeLessThanOrEqual(j.memory.largestBinding.limit + 16);
    expect(rss).toBeGreaterThan(0);
    expect(rss).toBeLessThan(400 * 2 ** 20);

    // the file's whole 163,840-token context on a 16 GB device with WebGPU's baseline binding limit
    const full = JSON.parse((await run(process.execPath, ['--import', 'tsx', '--import', './scripts/wgsl-register.mjs', 'src/cli/main.ts', 'inspect', path, '--context', '163840', '--gpu-memory', String(16e9)], { maxBuffer: 1 << 27 })).stdout).memory;
    console.log(`--context 163840 --gpu-memory 16e9: context ${full.cache.context} (${full.cache.limitedBy}), total ${(full.totalBytes / 1e9).toFixed(2)} GB`);
    expect(full.cache.requestedContext).toBe(163840);
    expect(full.cache.context).toBeLessThan(163840);
    expect(full.cache.limitedBy).toBeDefined();
    expect(full.totalBytes).toBeLessThanOrEqual(16e9);
    expect(full.fits).toBe(true);
  });
});
