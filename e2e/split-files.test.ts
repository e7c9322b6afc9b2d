/**
 * A split GGUF set in the page with the real engine: part 1's URL (`?model=`, served cross-origin with
 * Range; the Worker derives the other parts' URLs) and all three parts picked together in the file
 * input or dropped on the page together all load as one model, and a reply streams. A single part picked alone is refused with a
 * message naming the set.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { buildFixture } from '../src/tools/fixture/fixture.ts';
import { writeSplitGguf } from '../src/gguf/write-file.ts';
import { ask, launchBrowser, serveRangeFiles, startServer, watchConsole, type Server } from './harness.ts';

let server: Server;
let browser: BrowserContext;
let files: Awaited<ReturnType<typeof serveRangeFiles>>;
let dir: string;
let parts: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-e2e-split-'));
  const fx = buildFixture({ arch: 'deepseek32', gating: 'sigmoid', dims: { topK: 4 }, seed: 5 });
  parts = await writeSplitGguf(join(dir, 'fixture'), { metadata: fx.metadata, tensors: fx.tensors }, 3);
  const served = new Map(parts.map((p) => [`/${basename(p)}`, readFileSync(p)]));
  files = await serveRangeFiles(served);
  server = await startServer();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  files?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function waitReady(page: Page, log: string[]): Promise<void> {
  await expect
    .poll(() => page.getByTestId('model-status').getAttribute('data-status'), { timeout: 180_000 })
    .toBe('ready')
    .catch(async (e) => {
      throw new Error(`${e.message}\nstatus: ${await page.getByTestId('model-status').textContent()}\nconsole:\n${log.join('\n')}`);
    });
}

async function replyStreams(page: Page): Promise<string> {
  await ask(page, 'The experts');
  const reply = page.getByTestId('assistant-message').last();
  await expect.poll(() => reply.getAttribute('data-status'), { timeout: 240_000 }).toMatch(/done/);
  return (await reply.textContent()) ?? '';
}

describe('a 3-part split GGUF in the page', () => {
  it("by part 1's URL", async () => {
    const page = await browser.newPage();
    const log = watchConsole(page);
    await page.goto(`${server.url}?model=${encodeURIComponent(`${files.url}/${basename(parts[0])}`)}`);
    await waitReady(page, log);
    expect((await replyStreams(page)).length).toBeGreaterThan(0);
    await page.close();
  });

  it('by picking all parts, and refused with one part alone', async () => {
    const page = await browser.newPage();
    const log = watchConsole(page);
    // the three parts, picked out of order
    // no start-up model (a missing URL fails quietly), so the picked file is the page's first model
    await page.goto(`${server.url}?model=${encodeURIComponent(`${files.url}/none.gguf`)}`);
    await expect.poll(() => page.getByTestId('model-status').getAttribute('data-status'), { timeout: 180_000 }).toBe('failed');
    const input = page.getByTestId('model-file-input');
    await input.setInputFiles([parts[2], parts[0], parts[1]]);
    await expect.poll(() => page.getByTestId('model-status').textContent(), { timeout: 180_000 }).toContain('sparsescope-fixture-deepseek32');
    await waitReady(page, log);
    expect((await replyStreams(page)).length).toBeGreaterThan(0);
    await input.setInputFiles([parts[0]]);
    await expect.poll(async () => (await page.locator('body').textContent()) ?? '', { timeout: 60_000 }).toMatch(/part 1 of a 3-part split GGUF/);
    await page.close();
  });

  it('by dropping all parts on the page at once', async () => {
    const page = await browser.newPage();
    const log = watchConsole(page);
    await page.goto(`${server.url}?model=${encodeURIComponent(`${files.url}/none.gguf`)}`);
    await expect.poll(() => page.getByTestId('model-status').getAttribute('data-status'), { timeout: 180_000 }).toBe('failed');
    // Dropped as a user drops files: one drop event carrying the three parts, out of order.
    await page.evaluate(
      async (urls) => {
        const dt = new DataTransfer();
        for (const url of urls) dt.items.add(new File([await (await fetch(url)).blob()], url.split('/').pop()!));
        document.querySelector('.app')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      },
      [parts[1], parts[2], parts[0]].map((p) => `${files.url}/${basename(p)}`),
    );
    await expect.poll(() => page.getByTestId('model-status').textContent(), { timeout: 180_000 }).toContain('sparsescope-fixture-deepseek32');
    await waitReady(page, log);
    expect((await replyStreams(page)).length).toBeGreaterThan(0);
    await page.close();
  });
});
