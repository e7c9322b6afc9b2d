import { defineConfig } from 'vitest/config';

// Four projects, run by scripts/test.mjs in this order (gpu and gpu-once through scripts/gpu-suite.mjs),
// and a fifth, heavy, only by scripts/heavy-test.mjs:
//  unit — pure TypeScript and the llama.cpp reference comparisons (Node, no GPU);
//  gpu  — WGSL kernels and the WebGPU engine through Dawn; scripts/gpu-suite.mjs runs it once per
//         software adapter, with SPARSESCOPE_ADAPTER naming the adapter it must find;
//  gpu-once — once, on lavapipe: the WebGPU engine against llama.cpp (*.llama.gpu.test.ts), and tests of
//         adapter-independent code over the GPU (*.once.gpu.test.ts: the in-process engine's protocol and
//         queue, the bench's smoke run), whose kernels the per-adapter `gpu` project already covers;
//  e2e  — the page in Debian's chromium through playwright-core.
// scripts/test.mjs sets SPARSESCOPE_REPORT_DIR so that its summary, the last lines CI prints, can name each
// failed test and its message; every vitest run then also writes a JSON report there.
const reportDir = process.env.SPARSESCOPE_REPORT_DIR;

export default defineConfig({
  test: {
    ...(reportDir
      ? { reporters: ['default', 'json'], outputFile: { json: `${reportDir}/vitest-${process.env.SPARSESCOPE_ADAPTER ?? 'node'}-${process.pid}.json` } }
      : {}),
    projects: [
      { test: { name: 'unit', include: ['src/**/*.test.ts'], exclude: ['src/**/*.gpu.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 } },
      {
        test: {
          name: 'gpu',
          include: ['src/**/*.gpu.test.ts'],
          exclude: ['src/**/*.llama.gpu.test.ts', 'src/**/*.once.gpu.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      // Run once on the fastest software adapter (the per-adapter `gpu` project already checks the same
      // engine and kernels against the CPU reference on each adapter).
      {
        test: {
          name: 'gpu-once',
          include: ['src/**/*.llama.gpu.test.ts', 'src/**/*.once.gpu.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      { test: { name: 'e2e', include: ['e2e/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000, fileParallelism: false } },
      // Not in `npm test`: full-size real-shape twins against llama.cpp (GB files, minutes), run by
      // scripts/heavy-test.mjs on lavapipe. The files end in .heavy.ts so no other project picks them.
      { test: { name: 'heavy', include: ['src/**/*.twin.heavy.ts'], testTimeout: 3_600_000, hookTimeout: 300_000, fileParallelism: false } },
    ],
  },
});
