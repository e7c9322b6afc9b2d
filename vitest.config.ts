import { defineConfig } from 'vitest/config';

// Three projects, run by scripts/test.mjs in this order:
//  unit — pure TypeScript and the llama.cpp reference comparisons (Node, no GPU);
//  gpu  — WGSL kernels and the WebGPU engine through Dawn; scripts/gpu-suite.mjs runs it once per
//         software adapter, with SPARSESCOPE_ADAPTER naming the adapter it must find;
//  gpu-llama — the WebGPU engine against llama.cpp, once, on lavapipe;
//  e2e  — the page in Debian's chromium through playwright-core.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['src/**/*.test.ts'], exclude: ['src/**/*.gpu.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 } },
      { test: { name: 'gpu', include: ['src/**/*.gpu.test.ts'], exclude: ['src/**/*.llama.gpu.test.ts'], testTimeout: 300_000, hookTimeout: 120_000, fileParallelism: false } },
      // The WebGPU engine against llama.cpp: numerics, run once on the fastest software adapter
      // (the per-adapter `gpu` project already checks the same engine against the CPU reference).
      { test: { name: 'gpu-llama', include: ['src/**/*.llama.gpu.test.ts'], testTimeout: 600_000, hookTimeout: 120_000, fileParallelism: false } },
      { test: { name: 'e2e', include: ['e2e/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000, fileParallelism: false } },
    ],
  },
});
