/**
 * Smoke: `npm start` serves the page; in headless chromium the worker gets a WebGPU device, runs the
 * RMSNorm kernel against its CPU reference, and the page shows the adapter and its features.
 * Also: a browser without WebGPU gets the explanation page, and a lost device can be restarted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { launchBrowser, screenshot, startServer, watchConsole, type Server } from './harness.ts';

let server: Server;
let browser: BrowserContext;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  server?.stop();
});

describe('page smoke test (chromium, WebGPU)', () => {
  it('shows the adapter, its features and a passing kernel self-test', async () => {
    const page = await browser.newPage();
    const log = watchConsole(page);
    await page.goto(server.url);
    const name = page.getByTestId('adapter-name');
    await name.waitFor({ timeout: 60_000 }).catch((e) => {
      throw new Error(`${e.message}\nconsole:\n${log.join('\n')}`);
    });
    const adapter = await name.textContent();
    console.log(`chromium adapter: ${adapter}`);
    expect(adapter).toMatch(/swiftshader/i);
    expect(await page.getByTestId('gpu-features').textContent()).toMatch(/Features: .+/);
    const selfTest = page.getByTestId('selftest');
    await selfTest.waitFor({ timeout: 60_000 });
    console.log(`in-page kernel self-test max |error|: ${await selfTest.getAttribute('data-max-error')}`);
    expect(await selfTest.getAttribute('data-ok')).toBe('true');
    await screenshot(page, 'smoke-adapter');
    await page.close();
  });

  it('reports a lost device and restarts the engine', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.getByTestId('selftest').waitFor({ timeout: 60_000 });
    await page.evaluate(() => (window as unknown as { __sparsescope: { simulateDeviceLoss(): Promise<void> } }).__sparsescope.simulateDeviceLoss());
    const banner = page.getByTestId('error-banner');
    await banner.waitFor({ timeout: 30_000 });
    expect(await banner.textContent()).toMatch(/device lost/i);
    expect(await page.getByTestId('gpu-status').textContent()).toBe('lost');
    await screenshot(page, 'smoke-device-lost');
    await page.getByTestId('restart-engine').click();
    await expect.poll(() => page.getByTestId('gpu-status').textContent(), { timeout: 60_000 }).toBe('ready');
    await expect.poll(() => page.getByTestId('selftest').getAttribute('data-ok'), { timeout: 60_000 }).toBe('true');
    await page.close();
  });

  it('explains what is needed when the browser has no WebGPU', async () => {
    const page = await browser.newPage();
    await page.addInitScript(() => {
      delete (Navigator.prototype as unknown as { gpu?: unknown }).gpu;
    });
    await page.goto(server.url);
    const box = page.getByTestId('no-webgpu');
    await box.waitFor({ timeout: 30_000 });
    expect(await box.textContent()).toMatch(/Chrome or Edge 113/);
    await screenshot(page, 'smoke-no-webgpu');
    await page.close();
  });
});
