/**
 * The page's backends under `npm start` (the production build users get; DOM only, no e2e hook):
 * the page is cross-origin isolated (COOP same-origin + COEP credentialless: SharedArrayBuffer exists),
 * also when the service worker serves it offline; on chromium's SwiftShader (a software adapter) `auto`
 * measures both backends and the GPU panel names the one it kept with the measured ratio; forced to the
 * CPU in the settings, the bundled model loads again on the CPU and a reply streams. A page without
 * WebGPU explains what the GPU needs and still chats, on the CPU.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { ISOLATION_HEADERS } from '../vite.config.ts';
import { ask, launchBrowser, screenshot, startNpmStart, waitForOfflineCache, watchConsole, type Server } from './harness.ts';

let server: Server;
let browser: BrowserContext;

beforeAll(async () => {
  server = await startNpmStart();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function waitReady(page: Page, log: string[]): Promise<void> {
  await expect
    .poll(() => page.getByTestId('model-status').getAttribute('data-status'), { timeout: 240_000 })
    .toBe('ready')
    .catch(async (e) => {
      throw new Error(`${e.message}\nstatus: ${await page.getByTestId('model-status').textContent()}\nconsole:\n${log.join('\n')}`);
    });
}

const isolation = (page: Page) => page.evaluate(() => ({ isolated: crossOriginIsolated, sab: typeof SharedArrayBuffer === 'function' }));

const backend = async (page: Page) => ({
  backend: await page.getByTestId('backend').getAttribute('data-backend'),
  label: await page.getByTestId('backend-label').textContent(),
  reason: await page.getByTestId('backend-reason').textContent(),
});

/** A greedy reply of at most 3 tokens; resolves once it is done, with its token count from the metrics. */
async function reply(page: Page, text: string): Promise<number> {
  await page.getByTestId('setting-temperature').fill('0');
  await page.getByTestId('setting-maxTokens').fill('3');
  const before = await page.getByTestId('assistant-message').count();
  await ask(page, text);
  const msg = page.getByTestId('assistant-message').nth(before);
  await expect.poll(() => msg.getAttribute('data-status'), { timeout: 240_000 }).toBe('done');
  expect((await msg.locator('.msg-body').textContent())!.length).toBeGreaterThan(0);
  const counted = /(\d+)\s+tokens/.exec((await page.getByTestId('metrics').textContent()) ?? '');
  return counted ? Number(counted[1]) : 0;
}

describe('backends in the page (npm start)', () => {
  it('is cross-origin isolated, auto measures on SwiftShader, the CPU forced in the settings chats; isolated offline too', async () => {
    const page = await browser.newPage();
    const log = watchConsole(page);
    const response = await page.goto(server.url);
    for (const [k, v] of Object.entries(ISOLATION_HEADERS)) expect(response?.headers()[k.toLowerCase()]).toBe(v);
    expect(await isolation(page)).toEqual({ isolated: true, sab: true });
    await waitReady(page, log);
    // the engine's own Worker too (its script came with the headers)
    expect(await page.getByTestId('engine-isolated').getAttribute('data-isolated')).toBe('true');

    // auto on a software adapter: both measured, the faster kept, the ratio from the numbers shown
    const auto = await backend(page);
    console.log(`auto: ${auto.label}: ${auto.reason}`);
    expect(['cpu', 'webgpu']).toContain(auto.backend);
    expect(auto.reason).toMatch(
      /\(software\) and the (CPU|GPU) measured [0-9.]+× faster \(one decode step took [0-9.]+ ms on the CPU and [0-9.]+ ms on WebGPU/,
    );
    const [, cpuMs, gpuMs] = /took ([0-9.]+) ms on the CPU and ([0-9.]+) ms on WebGPU/.exec(auto.reason!)!.map(Number);
    expect(auto.backend).toBe(cpuMs < gpuMs ? 'cpu' : 'webgpu');

    // forced to the CPU: the model loads again there, and a reply streams
    await page.getByText('Sampling settings').click();
    await page.getByTestId('setting-backend').selectOption('cpu');
    await expect
      .poll(async () => (await page.getByTestId('backend').count()) && page.getByTestId('backend').getAttribute('data-backend'), { timeout: 240_000 })
      .toBe('cpu');
    await waitReady(page, log);
    const cpu = await backend(page);
    // Chromium has WebAssembly SIMD: the decode dots run there
    expect(cpu.label).toMatch(/^CPU \(WebAssembly SIMD\), \d+ threads?$/);
    expect(cpu.reason).toMatch(/asked for \(backend: cpu\)/);
    expect(await reply(page, 'And God said')).toBeGreaterThanOrEqual(1);
    await screenshot(page, 'backends-cpu');

    // offline, from the service worker's precache: the headers came with the cached page
    await waitForOfflineCache(page);
    await browser.setOffline(true);
    try {
      await page.reload();
      expect(await isolation(page)).toEqual({ isolated: true, sab: true });
      await waitReady(page, log);
      expect(await page.getByTestId('engine-isolated').getAttribute('data-isolated')).toBe('true');
      // the setting survived the reload
      expect(await page.getByTestId('backend').getAttribute('data-backend')).toBe('cpu');
    } finally {
      await browser.setOffline(false);
    }
    await page.close();
  }, 600_000);

  it('without WebGPU: the page says what the GPU needs, and the model runs on the CPU', async () => {
    const page = await browser.newPage();
    const log = watchConsole(page);
    await page.addInitScript(() => {
      delete (Navigator.prototype as unknown as { gpu?: unknown }).gpu;
    });
    // ?backend=auto: the first case left the setting on `cpu` in this browser's storage
    await page.goto(`${server.url}?backend=auto`);
    const box = page.getByTestId('no-webgpu');
    await box.waitFor({ timeout: 30_000 });
    expect(await box.textContent()).toMatch(/runs on the CPU instead.*Chrome or Edge 113/);
    await waitReady(page, log);
    const b = await backend(page);
    expect(b.backend).toBe('cpu');
    expect(b.reason).toMatch(/WebGPU is not available/);
    await page.getByText('Sampling settings').click();
    expect(await reply(page, 'And God said')).toBeGreaterThanOrEqual(1);
    await screenshot(page, 'backends-no-webgpu');
    await page.close();
  }, 600_000);
});
