/**
 * The page with the REAL engine: a random-weight deepseek32 GGUF (generated here, served with Range and
 * CORS from 127.0.0.1) loads through `?model=<url>` into the Worker's WebGPU engine on chromium's
 * SwiftShader, a reply streams, and the indexer heatmap shows the positions the engine picked. Then the
 * device is lost in the middle of a reply: the text so far stays, marked interrupted, the banner says
 * what happened, the engine restarts, loads the model again, and the next message gets a reply. And a
 * file whose chat template loops forever is contained: dropped on a page mid-conversation, it loads, its
 * template is refused with a typed `template` error in the banner, the reply comes in the fallback format,
 * and the earlier messages stay.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { writeFixture } from '../src/tools/fixture/fixture.ts';
import { ask, launchBrowser, screenshot, serveRangeFiles, startServer, watchConsole, type Server } from './harness.ts';

const LOOPING_TEMPLATE = '{% for m in messages %}{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}{% endfor %}';

let server: Server;
let browser: BrowserContext;
let files: Awaited<ReturnType<typeof serveRangeFiles>>;
let modelUrl: string;
let loopingBytes: Buffer;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-e2e-model-'));
  const path = join(dir, 'fixture.gguf');
  await writeFixture(path, { arch: 'deepseek32', gating: 'sigmoid', dims: { topK: 4 }, seed: 5 });
  const bytes = readFileSync(path);
  // The same model with a chat template that would loop 10^10 times (src/model/template-sandbox.ts stops it).
  const looping = join(dir, 'looping.gguf');
  await writeFixture(looping, {
    arch: 'deepseek32',
    gating: 'sigmoid',
    dims: { topK: 4 },
    seed: 5,
    name: 'looping-template',
    metadata: { 'tokenizer.chat_template': { type: 'string', value: LOOPING_TEMPLATE } },
  });
  loopingBytes = readFileSync(looping);
  files = await serveRangeFiles(
    new Map([
      ['/fixture.gguf', bytes],
      ['/looping.gguf', loopingBytes],
    ]),
  );
  modelUrl = `${files.url}/fixture.gguf`;
  server = await startServer();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  server?.stop();
  files?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the page with the real WebGPU engine', () => {
  it('loads a GGUF by URL, streams a reply, and the indexer heatmap outlines the engine’s top-k picks', async () => {
    const page = await browser.newPage();
    const log = watchConsole(page);
    await page.goto(`${server.url}?backend=webgpu&model=${encodeURIComponent(modelUrl)}`);
    await expect
      .poll(() => page.getByTestId('model-status').getAttribute('data-status'), { timeout: 180_000 })
      .toBe('ready')
      .catch(async (e) => {
        throw new Error(`${e.message}\nstatus: ${await page.getByTestId('model-status').textContent()}\nconsole:\n${log.join('\n')}`);
      });
    await ask(page, 'The experts');
    const reply = page.getByTestId('assistant-message').last();
    await expect.poll(() => reply.getAttribute('data-status'), { timeout: 240_000 }).toMatch(/done/);
    const text = (await reply.textContent()) ?? '';
    console.log(`real engine reply: ${text.length} characters; tokens/s ${await page.getByTestId('tokens-per-second').textContent()}`);
    expect(text.length).toBeGreaterThan(0);
    // The indexer heatmap draws the engine's own picks: at most top-k (4) outlined cells per query row.
    const outlined = await page.evaluate(() => {
      const hook = (window as unknown as { __sparsescope: { heatmaps: Record<string, { outlined?: number[][] }> } }).__sparsescope;
      return hook.heatmaps['indexer-heatmap']?.outlined ?? [];
    });
    expect(outlined.length).toBeGreaterThan(0);
    expect(outlined.every((row) => row.length <= 4)).toBe(true);
    expect(outlined.some((row) => row.length === 4)).toBe(true);
    await screenshot(page, 'real-engine-chat');
    await page.close();
  });

  it('keeps the reply so far when the device is lost mid-reply, restarts, reloads the model and answers again', async () => {
    // Its own browser: the destroyed device must not be shared with the other tests' pages.
    const own = await launchBrowser();
    const page = await own.newPage();
    const log = watchConsole(page);
    await page.goto(`${server.url}?backend=webgpu&model=${encodeURIComponent(modelUrl)}`);
    await waitModelReady(page, log);
    await newConversation(page); // the browser profile keeps the earlier tests' conversation
    await page.getByText('Sampling settings').click();
    await page.getByTestId('setting-maxTokens').fill('200'); // still streaming when the device goes (the fixture's context is 256)
    await ask(page, 'The experts');
    const reply = page.getByTestId('assistant-message').last();
    await expect.poll(async () => (await reply.locator('.msg-body').textContent())?.length ?? 0, { timeout: 120_000 }).toBeGreaterThan(8);
    expect(await reply.getAttribute('data-status')).toBe('streaming');
    const before = (await reply.locator('.msg-body').textContent())!;
    await page.evaluate(() => (window as unknown as { __sparsescope: { simulateDeviceLoss(): Promise<void> } }).__sparsescope.simulateDeviceLoss());

    const banner = page.getByTestId('error-banner');
    await expect.poll(() => banner.getAttribute('data-code'), { timeout: 30_000 }).toBe('device-lost');
    expect(await banner.textContent()).toMatch(/device lost/i);
    await expect.poll(() => reply.getAttribute('data-status'), { timeout: 30_000 }).toBe('interrupted');
    const kept = (await reply.locator('.msg-body').textContent())!;
    expect(kept.startsWith(before.trimEnd()), `${JSON.stringify(before)} then ${JSON.stringify(kept)}`).toBe(true);
    expect(await reply.textContent()).toContain('interrupted');
    expect(await banner.getAttribute('data-code')).toBe('device-lost'); // no later error replaced it
    await screenshot(page, 'real-engine-device-lost');

    await page.getByTestId('restart-engine').click();
    await waitModelReady(page, log);
    await page.getByTestId('setting-maxTokens').fill('4');
    await ask(page, 'And again');
    await expect.poll(() => page.getByTestId('assistant-message').count(), { timeout: 30_000 }).toBe(2);
    await expect
      .poll(() => page.getByTestId('assistant-message').last().getAttribute('data-status'), { timeout: 240_000 })
      .toBe('done')
      .catch(async (e: Error) => {
        const shown = (await banner.count()) ? await banner.textContent() : 'no banner';
        throw new Error(`${e.message}\nbanner: ${shown}\nconsole:\n${log.join('\n')}`);
      });
    expect((await page.getByTestId('assistant-message').last().locator('.msg-body').textContent())!.length).toBeGreaterThan(0);
    expect(await page.getByTestId('assistant-message').first().getAttribute('data-status')).toBe('interrupted');
    expect(await page.getByTestId('user-message').count()).toBe(2);
    await own.close();
  });

  it('contains a dropped file whose chat template loops forever: typed template error, fallback format, the conversation kept', async () => {
    const page = await browser.newPage();
    const log = watchConsole(page);
    await page.goto(`${server.url}?backend=webgpu&model=${encodeURIComponent(modelUrl)}`);
    await waitModelReady(page, log);
    await newConversation(page); // the browser profile keeps the earlier tests' conversation
    await page.getByText('Sampling settings').click();
    await page.getByTestId('setting-maxTokens').fill('3');
    await ask(page, 'The experts');
    await expect
      .poll(
        () =>
          page
            .getByTestId('assistant-message')
            .last()
            .getAttribute('data-status', { timeout: 5_000 })
            .catch(() => 'absent'),
        { timeout: 240_000 },
      )
      .toBe('done')
      .catch(async (e: Error) => {
        const banner = page.getByTestId('error-banner');
        throw new Error(`${e.message}\nbanner: ${(await banner.count()) ? await banner.textContent() : 'no banner'}\nconsole:\n${log.join('\n')}`);
      });
    const firstReply = await page.getByTestId('assistant-message').last().textContent();

    // Dropped on the page, as a user drops a file.
    await page.evaluate(async (url) => {
      const file = new File([await (await fetch(url)).blob()], 'looping.gguf');
      const dt = new DataTransfer();
      dt.items.add(file);
      document.querySelector('.app')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, `${files.url}/looping.gguf`);
    await expect.poll(() => page.getByTestId('model-status').textContent(), { timeout: 60_000 }).toMatch(/looping-template/);
    await waitModelReady(page, log);
    await ask(page, 'And again');
    const banner = page.getByTestId('error-banner');
    await expect
      .poll(() => banner.getAttribute('data-code'), { timeout: 60_000 })
      .toBe('template')
      .catch(async (e: Error) => {
        throw new Error(`${e.message}\nbanner: ${await banner.textContent()}\nconsole:\n${log.join('\n')}`);
      });
    console.log(`looping template: ${await banner.textContent()}`);
    expect(await banner.textContent()).toMatch(/chat template failed[\s\S]*using the [\s\S]+ format/);
    await expect.poll(() => page.getByTestId('assistant-message').last().getAttribute('data-status'), { timeout: 240_000 }).toBe('done');
    expect(await page.getByTestId('assistant-message').count()).toBe(2);
    expect(await page.getByTestId('user-message').count()).toBe(2);
    expect(await page.getByTestId('user-message').first().textContent()).toContain('The experts');
    expect(await page.getByTestId('assistant-message').first().textContent()).toBe(firstReply);
    // The page still works: another message on the same model gets a reply too.
    await ask(page, 'Once more');
    await expect.poll(() => page.getByTestId('assistant-message').count(), { timeout: 30_000 }).toBe(3);
    await expect.poll(() => page.getByTestId('assistant-message').last().getAttribute('data-status'), { timeout: 240_000 }).toBe('done');
    await screenshot(page, 'real-engine-looping-template');
    await page.close();
  });
});

async function newConversation(page: Page): Promise<void> {
  await page.getByText(/^Conversations/).click();
  await page.getByTestId('new-conversation').click();
  await expect.poll(() => page.getByTestId('assistant-message').count()).toBe(0);
}

async function waitModelReady(page: Page, log: string[]): Promise<void> {
  await expect
    .poll(() => page.getByTestId('model-status').getAttribute('data-status'), { timeout: 180_000 })
    .toBe('ready')
    .catch(async (e) => {
      throw new Error(`${e.message}\nstatus: ${await page.getByTestId('model-status').textContent()}\nconsole:\n${log.join('\n')}`);
    });
}
