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
import { q4kMix, shaped, v2LiteChatMetadata } from './testing/v2-lite-shape.ts';
import { writeSparseGguf } from '../gguf/write-file.ts';
import { cacheBytes } from '../engine/webgpu/kv-cache.ts';
import { planMemory } from './memory-plan.ts';

const run = promisify(execFile);

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
    const r = await run(
      process.execPath,
      ['--import', 'tsx', '--import', './scripts/wgsl-register.mjs', '--import', './src/model/testing/print-max-rss.mjs', 'src/cli/main.ts', 'inspect', path],
      { maxBuffer: 1 << 27 },
    );
    const seconds = (performance.now() - t0) / 1000;
    const j = JSON.parse(r.stdout);
    const rss = Number(/max-rss-bytes (\d+)/.exec(r.stderr)?.[1]);
    console.log(
      `cli inspect, ${(size / 1e9).toFixed(2)} GB sparse V2-Lite-Chat-shaped file: ${seconds.toFixed(1)} s, peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB; plan: weights ${(j.memory.weights.gpuBytes / 1e9).toFixed(2)} GB on the GPU, context ${j.memory.cache.context} of ${j.memory.cache.fileContext}, total ${(j.memory.totalBytes / 1e9).toFixed(2)} GB`,
    );
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
    const full = JSON.parse(
      (
        await run(
          process.execPath,
          [
            '--import',
            'tsx',
            '--import',
            './scripts/wgsl-register.mjs',
            'src/cli/main.ts',
            'inspect',
            path,
            '--context',
            '163840',
            '--gpu-memory',
            String(16e9),
          ],
          { maxBuffer: 1 << 27 },
        )
      ).stdout,
    ).memory;
    console.log(`--context 163840 --gpu-memory 16e9: context ${full.cache.context} (${full.cache.limitedBy}), total ${(full.totalBytes / 1e9).toFixed(2)} GB`);
    expect(full.cache.requestedContext).toBe(163840);
    expect(full.cache.context).toBeLessThan(163840);
    expect(full.cache.limitedBy).toBeDefined();
    expect(full.totalBytes).toBeLessThanOrEqual(16e9);
    expect(full.fits).toBe(true);
  });
});
