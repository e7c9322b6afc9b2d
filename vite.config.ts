import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';

// The production page's Content-Security-Policy (sent by `npm start`; the service worker's precache keeps
// the header for offline loads). No inline scripts and no eval: a chat template or a model's output can
// never become script. 'wasm-unsafe-eval' allows WebAssembly only; workers and the service worker come
// from this origin (blob: for module workers some browsers create); connect-src is open because models
// load by URL from other origins and the playground talks to remote OpenAI-compatible servers.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  'connect-src * data: blob:',
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

// Cross-origin isolation (`crossOriginIsolated`, hence SharedArrayBuffer for the CPU backend's Worker
// threads). COEP `credentialless` rather than `require-corp`: a model fetched by URL from another origin
// (a model hub) needs no Cross-Origin-Resource-Policy header; no-cors requests simply go without
// cookies, and the page's fetches (models by range, remote endpoints) are CORS requests anyway. Sent by
// `npm run dev` and `npm start` on every response (the page, the engine Worker's script, the service
// worker), and kept offline because the service worker's precache stores each response with its headers.
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'credentialless',
} as const;

// Test builds (src/worker/test-build.ts) carry the e2e hook `window.__sparsescope` and the device-loss
// trigger: the dev server, and a build made with SPARSESCOPE_TEST_BUILD=1 (`npm start` puts that one in
// .cache/dist-test, never in dist/). The production build users get has neither in its bundle.
export default defineConfig(({ command }) => ({
  define: { __SPARSESCOPE_TEST_BUILD__: JSON.stringify(command === 'serve' || process.env.SPARSESCOPE_TEST_BUILD === '1') },
  plugins: [
    react(),
    // Offline: the built app precaches itself and the bundled model (public/models/*.gguf), so the page,
    // the engine and a model all work with the network off after the first visit (`npm start` serves this
    // build). Off in `npm run dev`, where a service worker would only serve stale modules.
    VitePWA({
      registerType: 'autoUpdate',
      injectRegister: false,
      includeAssets: ['icon.svg'],
      manifest: {
        name: 'SparseScope',
        short_name: 'SparseScope',
        description: 'DeepSeek-style MLA, MoE and sparse attention running in your browser on WebGPU, with the internals made visible.',
        theme_color: '#1f2740',
        background_color: '#f4f5f8',
        display: 'standalone',
        start_url: '.',
        icons: [{ src: 'icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any maskable' }],
      },
      workbox: {
        globPatterns: ['**/*.{js,css,html,svg,wasm,json}', 'models/*.gguf'],
        // The bundled model is one large file; Workbox's 2 MiB default would silently leave it out.
        maximumFileSizeToCacheInBytes: 2 * 1024 ** 3,
        navigateFallback: 'index.html',
      },
      devOptions: { enabled: false },
    }),
  ],
  server: { host: '127.0.0.1', port: 5173, strictPort: false, headers: { ...ISOLATION_HEADERS } },
  preview: { host: '127.0.0.1', port: 4173, headers: { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, ...ISOLATION_HEADERS } },
  worker: { format: 'es' },
  build: { target: 'es2022' },
}));
