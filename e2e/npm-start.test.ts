/**
 * `npm start` serves what users get: spawned exactly as a user runs it (PORT in the environment, the URL
 * read from what it prints), the page loads the bundled model on the REAL engine (chromium's SwiftShader
 * WebGPU), a short greedy reply streams; then with the network off the page reloads from the service
 * worker, loads the model again from its cache and answers again. The dev server could not do this
 * (net::ERR_INTERNET_DISCONNECTED on reload): `npm start` used to be `vite`. The production build has no
 * e2e hook: the test reads the DOM only, and checks neither the page nor any served script has the hook.
 */
import { readdirSync } from 'node:fs';
import { sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { CONTENT_SECURITY_POLICY } from '../vite.config.ts';
import { ask, launchBrowser, screenshot, startNpmStart, watchConsole, watchCspViolations, waitForOfflineCache, type Server } from './harness.ts';

// SwiftShader decodes ~1.6 tok/s: a couple of tokens are enough to see a reply stream.
const MAX_TOKENS = 3;

/**
 * The last message as the page shows it: the production build has no `window.__sparsescope`, so this
 * reads only the DOM (role and status from the message's attributes, the token count from the metrics).
 */
const lastMessage = (page: Page) =>
  page.evaluate(() => {
    const all = document.querySelectorAll('[data-testid=user-message], [data-testid=assistant-message]');
    const el = all[all.length - 1];
    if (!el) return undefined;
    const counted = /(\d+)\s+tokens/.exec(document.querySelector('[data-testid=metrics]')?.textContent ?? '');
    return {
      role: el.getAttribute('data-testid') === 'assistant-message' ? 'assistant' : 'user',
      content: el.querySelector('.msg-body')?.textContent ?? '',
      status: el.getAttribute('data-status') ?? undefined,
      tokens: counted ? Number(counted[1]) : 0,
    };
  });

/** Every JavaScript file of the build `npm start` serves (dist/), as served. */
async function servedScripts(url: string): Promise<{ path: string; text: string }[]> {
  const paths = (readdirSync('dist', { recursive: true }) as string[]).filter((p) => p.endsWith('.js'));
  return Promise.all(paths.map(async (p) => ({ path: p, text: await (await fetch(new URL(p.split(sep).join('/'), url))).text() })));
}

let server: Server;
let browser: BrowserContext;

beforeAll(async () => {
  const t0 = Date.now();
  server = await startNpmStart();
  console.log(`npm start printed ${server.url} after ${((Date.now() - t0) / 1000).toFixed(1)} s:\n${server.output().trim()}`);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function waitReady(page: Page, log: string[]): Promise<number> {
  const t0 = Date.now();
  await expect
    .poll(() => page.getByTestId('model-status').getAttribute('data-status'), { timeout: 180_000 })
    .toBe('ready')
    .catch(async (e) => {
      throw new Error(`${e.message}\nstatus: ${await page.getByTestId('model-status').textContent()}\nconsole:\n${log.join('\n')}`);
    });
  expect(await page.getByTestId('model-status').textContent()).toMatch(/SparseScope KJV/);
  return (Date.now() - t0) / 1000;
}

/** Greedy, MAX_TOKENS at most; asks `text` and follows the reply until done, proving it streamed. */
async function chatGreedy(page: Page, text: string): Promise<string> {
  await page.getByText('Sampling settings').click();
  await page.getByTestId('setting-temperature').fill('0');
  await page.getByTestId('setting-maxTokens').fill(String(MAX_TOKENS));
  // Every state the page goes through, recorded in the page at each DOM change (a MutationObserver: no
  // polling, so a fast reply or a slow test process cannot skip the streaming states)
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __streamStates: string[] }).__streamStates = seen;
    const record = () => {
      const all = document.querySelectorAll('[data-testid=user-message], [data-testid=assistant-message]');
      const el = all[all.length - 1];
      if (el?.getAttribute('data-testid') !== 'assistant-message') return;
      const counted = /(\d+)\s+tokens/.exec(document.querySelector('[data-testid=metrics]')?.textContent ?? '');
      seen.push(`${el.getAttribute('data-status')}:${counted ? counted[1] : 0}`);
    };
    new MutationObserver(record).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
      attributeFilter: ['data-status'],
    });
  });
  const t0 = Date.now();
  await ask(page, text);
  let m = await lastMessage(page);
  while (Date.now() - t0 < 240_000) {
    m = await lastMessage(page);
    if (m?.role === 'assistant' && m.status !== 'streaming') break;
    await page.waitForTimeout(100);
  }
  const seen = await page.evaluate(() => (window as unknown as { __streamStates: string[] }).__streamStates);
  console.log(`reply in ${((Date.now() - t0) / 1000).toFixed(1)} s (${m!.tokens} tokens): ${JSON.stringify(m!.content)}`);
  expect(m!.status).toBe('done');
  expect(m!.tokens).toBeGreaterThanOrEqual(1);
  expect(m!.tokens).toBeLessThanOrEqual(MAX_TOKENS);
  expect(m!.content.length).toBeGreaterThan(0);
  // Streamed: the page showed the reply while it was still being generated.
  expect(
    seen.some((s) => /^streaming:[1-9]/.test(s)),
    seen.join(' '),
  ).toBe(true);
  return m!.content;
}

describe('npm start', () => {
  it('serves the production build: the bundled model chats, and again offline after a reload', async () => {
    expect(server.output()).toMatch(/\[start\] (built dist\/ in|dist\/ is up to date)/);
    const page = await browser.newPage();
    const log = watchConsole(page);
    const cspViolations = await watchCspViolations(page);
    const response = await page.goto(`${server.url}?backend=webgpu`); // the chat streams slowly enough on SwiftShader WebGPU to see the streaming states
    // the strict policy is on: no inline script, no eval (vite.config.ts)
    expect(response?.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|'unsafe-eval'/);
    console.log(`bundled model ready (online) in ${(await waitReady(page, log)).toFixed(1)} s`);
    // The e2e hook exists only in test builds (src/worker/test-build.ts): not on the page, not in any script.
    expect(await page.evaluate(() => '__sparsescope' in window)).toBe(false);
    const scripts = await servedScripts(server.url);
    expect(scripts.some((s) => /engine\.worker/.test(s.path))).toBe(true);
    expect(scripts.filter((s) => /simulateDeviceLoss|__sparsescope/.test(s.text)).map((s) => s.path)).toEqual([]);
    const first = await chatGreedy(page, 'And God said');
    expect(await cspViolations()).toEqual([]);

    // The service worker (production build only) has precached the app and the model.
    await waitForOfflineCache(page);

    await browser.setOffline(true);
    try {
      // Really offline: what the service worker does not hold cannot be fetched.
      const probe = await page.evaluate(
        (u) =>
          fetch(`${u}not-precached-${Date.now()}`).then(
            (r) => `status ${r.status}`,
            (e: Error) => `failed: ${e.message}`,
          ),
        server.url,
      );
      expect(probe).toMatch(/^failed/);
      await page.reload();
      console.log(`bundled model ready (offline, from the cache) in ${(await waitReady(page, log)).toFixed(1)} s`);
      expect(await page.getByTestId('user-message').count()).toBe(1);
      expect(await page.getByTestId('assistant-message').first().textContent()).toContain(first.trim().split('\n').at(-1));
      await chatGreedy(page, 'And God called the light Day');
      expect(await page.getByTestId('assistant-message').count()).toBe(2);
      expect(await cspViolations()).toEqual([]);
      await screenshot(page, 'npm-start-offline');
    } finally {
      await browser.setOffline(false);
    }
    await page.close();

    // The server's whole process group ends: nothing answers on its port any more.
    await server.stop();
    await expect(fetch(server.url)).rejects.toThrow();
  }, 600_000);
});
