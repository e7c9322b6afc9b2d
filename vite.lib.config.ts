/**
 * The npm package's build, two modes (scripts/build-lib.mjs runs both): WGSL is inlined by Vite's `?raw` imports
 * and every dependency is bundled, so the package needs no install-time dependencies (Dawn's `webgpu`
 * is an optional peer, imported only for the Node WebGPU backend).
 *   node:    dist/lib/node.js (createEngine in process), dist/lib/cli.js (the `sparsescope` bin)
 *   browser: dist/lib/browser/browser.js (createEngine in a Worker) and its worker chunk
 */
import { defineConfig, type UserConfig } from 'vite';

export const nodeLibConfig: UserConfig = {
  publicDir: false,
  logLevel: 'warn',
  ssr: { noExternal: true, external: ['webgpu'], target: 'node' },
  build: {
    ssr: true,
    outDir: 'dist/lib',
    emptyOutDir: false,
    target: 'node20',
    minify: false,
    sourcemap: false,
    rollupOptions: {
      input: { node: 'src/api/node.ts', cli: 'src/server/main.ts' },
      external: ['webgpu', /^node:/],
      output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
};

export const browserLibConfig: UserConfig = {
  publicDir: false,
  logLevel: 'warn',
  // Relative URLs, so the worker chunk is found next to the module wherever the package is served from.
  base: './',
  worker: { format: 'es' },
  build: {
    outDir: 'dist/lib/browser',
    emptyOutDir: false,
    target: 'es2022',
    minify: false,
    lib: { entry: 'src/api/browser.ts', formats: ['es'], fileName: () => 'browser.js' },
  },
};

// `vite build -c vite.lib.config.ts --mode node|browser`; scripts/build-lib.mjs runs both.
export default defineConfig(({ mode }) => (mode === 'browser' ? browserLibConfig : nodeLibConfig));
