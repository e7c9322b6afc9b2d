/**
 * Whether this bundle is a test build: the dev server (`npm run dev`) or a build made with
 * SPARSESCOPE_TEST_BUILD=1 (the e2e harness's `npm start` test build). Vite replaces the constant at build
 * time (vite.config.ts `define`), so in the production build users get every `if (TEST_BUILD)` branch —
 * the page's `window.__sparsescope` hook and the device-loss trigger — is removed from the bundle.
 * Outside Vite (Node: CLI, vitest) the constant does not exist and this is false.
 */
declare const __SPARSESCOPE_TEST_BUILD__: boolean | undefined;

export const TEST_BUILD: boolean = typeof __SPARSESCOPE_TEST_BUILD__ !== 'undefined' && __SPARSESCOPE_TEST_BUILD__ === true;
