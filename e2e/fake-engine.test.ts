/**
 * The page against the FakeEngine test double (`?engine=fake`): deterministic tokens and traces, the real
 * GPU underneath. Covers chat streaming, stop, the indexer heatmap's data against the trace, the top-k
 * slider, conversations surviving reload, and bad input (corrupt file, 404 URL, too-long prompt, raw HTML).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { ask, launchBrowser, openFakePage, screenshot, startServer, type Server } from './harness.ts';
import { RECALL_EXAMPLE } from '../src/ui/views/recall-example.ts';

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

type Hook = {
  heatmaps: Record<string, { values: number[][]; outlined?: number[][] }>;
  state(): {
    layer: number;
    analysis?: { k?: number; rows: { position: number; layers: { chosen?: number[]; indexScores?: number[] }[] }[] };
    conversation: { messages: { role: string; content: string }[] };
  };
};

const openFake = (page: Page, extra = '') => openFakePage(page, server.url, extra);

/** Starts a new conversation, asks `text` and waits until the reply is streaming (more than 12 characters). */
async function askInNewConversation(page: Page, text: string, timeout: number): Promise<void> {
  await page.getByText(/^Conversations/).click();
  await page.getByTestId('new-conversation').click();
  await ask(page, text);
  await expect.poll(async () => (await page.getByTestId('assistant-message').last().textContent())?.length ?? 0, { timeout }).toBeGreaterThan(12);
}

describe('chat and views with the FakeEngine', () => {
  it('streams a reply into assistant-message, then stop ends a running one', async () => {
    const page = await browser.newPage();
    await openFake(page);
    await ask(page, 'Tell me about the garden');
    const reply = page.getByTestId('assistant-message').last();
    await expect.poll(async () => (await reply.textContent())?.length ?? 0, { timeout: 30_000 }).toBeGreaterThan(20);
    await expect.poll(() => reply.getAttribute('data-status'), { timeout: 30_000 }).toMatch(/done/);
    expect(Number(await page.getByTestId('tokens-per-second').textContent())).toBeGreaterThan(0);
    await page.getByTestId('render-mode').selectOption('tokens');
    await page.locator('[data-testid="assistant-message"] .tok').nth(3).hover();
    await expect.poll(() => page.getByTestId('context-strip').getAttribute('data-picked')).toMatch(/^\[\d/);
    await screenshot(page, 'fake-chat');

    // A slow fake (300 ms a token) for the stop half, so the reply is surely still running when we click.
    const slow = await browser.newPage();
    await openFake(slow, '&fakeDelay=300');
    await slow.getByText('Sampling settings').click();
    await slow.getByTestId('setting-maxTokens').fill('400');
    await ask(slow, 'And now a long story please');
    await slow.getByTestId('stop').waitFor();
    await expect.poll(async () => (await slow.getByTestId('assistant-message').last().textContent())?.length ?? 0, { timeout: 10_000 }).toBeGreaterThan(10);
    await slow.getByTestId('stop').click();
    await expect.poll(() => slow.getByTestId('assistant-message').last().getAttribute('data-status'), { timeout: 10_000 }).toBe('stopped');
    await slow.getByTestId('send').waitFor();
    await slow.close();
    await page.getByTestId('send').waitFor();
    await page.close();
  });

  it("draws the indexer heatmap's outlined cells exactly at the trace's chosen positions, and the slider changes them", async () => {
    const page = await browser.newPage();
    const log = await openFake(page, '&view=classroom&k=6&layer=1');
    const heat = page.getByTestId('indexer-heatmap');
    await heat.waitFor({ timeout: 30_000 }).catch(async (e: Error) => {
      // Say what the page held, so a failure here can be diagnosed from the CI log alone.
      const state = await page.evaluate(() => {
        const s = (window as unknown as { __sparsescope: Hook }).__sparsescope.state() as unknown as Record<string, unknown>;
        return JSON.stringify({
          model: s.model,
          error: s.error,
          classroom: s.classroom,
          analysisRows: (s.analysis as { rows?: unknown[] } | undefined)?.rows?.length,
        });
      });
      throw new Error(`${e.message}\nstate: ${state}\nconsole:\n${log.join('\n')}`);
    });
    const read = () =>
      page.evaluate(() => {
        const h = (window as unknown as { __sparsescope: Hook }).__sparsescope;
        const s = h.state();
        return { drawn: h.heatmaps['indexer-heatmap'], rows: s.analysis!.rows.map((r) => r.layers[s.layer]), k: s.analysis!.k };
      });
    const a = await read();
    expect(a.k).toBe(6);
    expect(a.drawn.outlined).toEqual(a.rows.map((r) => r.chosen));
    expect(JSON.parse((await heat.getAttribute('data-chosen'))!)).toEqual(a.rows.map((r) => r.chosen));
    a.rows.forEach((r, t) => expect(r.chosen!.length).toBe(Math.min(6, t + 1)));
    await screenshot(page, 'fake-classroom');

    await page.getByTestId('topk-slider').fill('2');
    await expect.poll(async () => (await read()).k, { timeout: 10_000 }).toBe(2);
    const b = await read();
    expect(b.drawn.outlined).toEqual(b.rows.map((r) => r.chosen));
    b.rows.forEach((r, t) => expect(r.chosen!.length).toBe(Math.min(2, t + 1)));
    expect(b.drawn.outlined).not.toEqual(a.drawn.outlined);
    expect(Number(await page.getByTestId('step-result').getAttribute('data-kl'))).toBeGreaterThan(0);
    expect(new URL(page.url()).searchParams.get('k')).toBe('2');

    await page.getByTestId('classroom-step').click();
    await expect.poll(async () => (await read()).rows.length, { timeout: 10_000 }).toBe(a.rows.length + 1);
    // The recall example replaces the prompt (and the steps), is traced, and travels in the shared link.
    await page.getByTestId('recall-example').click();
    expect(await page.getByTestId('classroom-prompt').inputValue()).toBe(RECALL_EXAMPLE);
    await expect.poll(async () => (await read()).rows.length, { timeout: 10_000 }).toBeGreaterThan(a.rows.length + 1);
    await expect.poll(() => new URL(page.url()).searchParams.get('prompt'), { timeout: 10_000 }).toBe(RECALL_EXAMPLE);
    await page.getByTestId('tab-experts').click();
    await page.getByTestId('expert-heatmap').waitFor();
    await screenshot(page, 'fake-experts');
    await page.getByTestId('tab-memory').click();
    await page.getByTestId('memory-v32').waitFor();
    await screenshot(page, 'fake-memory');
    await page.close();
  });

  it('keeps conversations across a reload', async () => {
    const page = await browser.newPage();
    await openFake(page);
    await ask(page, 'Remember the river');
    await expect.poll(() => page.getByTestId('assistant-message').last().getAttribute('data-status'), { timeout: 30_000 }).toBe('done');
    const before = await page.getByTestId('assistant-message').last().textContent();
    await page.reload();
    await page.getByTestId('user-message').last().waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('user-message').last().textContent()).toContain('Remember the river');
    expect(await page.getByTestId('assistant-message').last().textContent()).toBe(before);
    await page.close();

    // Closed in the middle of a reply: the question is already saved, so it survives the reload.
    const slow = await browser.newPage();
    await openFake(slow, '&fakeDelay=300');
    await askInNewConversation(slow, 'Keep my question', 10_000);
    await slow.reload();
    await slow.getByTestId('user-message').last().waitFor({ timeout: 30_000 });
    expect(await slow.getByTestId('user-message').last().textContent()).toContain('Keep my question');
    await slow.close();
  });

  it('shows a corrupt dropped file, a failing URL and a too-long prompt in error-banner and keeps the conversation', async () => {
    const page = await browser.newPage();
    await openFake(page);
    // Earlier tests left a conversation in IndexedDB; start a fresh one so the counts below are exact.
    await page.getByText(/^Conversations/).click();
    await page.getByTestId('new-conversation').click();
    await ask(page, 'Hello there');
    await expect
      .poll(() => page.getByTestId('assistant-message').last().getAttribute('data-status'), { timeout: 30_000 })
      .toBe('done')
      .catch(async (e) => {
        await screenshot(page, 'fake-failure');
        throw e;
      });
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array([0x50, 0x4b, 3, 4, 1, 2, 3, 4])], 'notes.gguf'));
      document.querySelector('.app')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    const banner = page.getByTestId('error-banner');
    await banner.waitFor({ timeout: 10_000 });
    expect(await banner.textContent()).toMatch(/not a GGUF file/);
    await expect.poll(() => page.getByTestId('model-status').getAttribute('data-status'), { timeout: 10_000 }).toBe('ready');
    expect(await page.getByTestId('user-message').count()).toBe(1);
    expect(await page.getByTestId('assistant-message').count()).toBe(1);
    await screenshot(page, 'fake-corrupt-file');

    await page.route('**/missing.gguf', (r) => r.fulfill({ status: 404, body: 'not found' }));
    await page.getByTestId('model-url-input').fill(`${server.url}missing.gguf`);
    await page.getByTestId('model-url-load').click();
    await expect.poll(() => banner.textContent(), { timeout: 10_000 }).toMatch(/HTTP 404/);
    // Network off / host down: nothing listens on the discard port.
    await page.getByTestId('model-url-input').fill('http://127.0.0.1:9/model.gguf');
    await page.getByTestId('model-url-load').click();
    await expect.poll(() => banner.textContent(), { timeout: 10_000 }).toMatch(/Could not reach/);
    expect(await page.getByTestId('user-message').count()).toBe(1);

    // After a failed load the page stays usable: reload the (fake) bundled model and chat again.
    await page.getByRole('button', { name: 'Bundled model' }).click();
    await expect.poll(() => page.getByTestId('model-status').getAttribute('data-status'), { timeout: 30_000 }).toBe('ready');
    const long = Array.from({ length: 600 }, (_, i) => `w${i}`).join(' ');
    await ask(page, long);
    await expect.poll(() => banner.getAttribute('data-code'), { timeout: 10_000 }).toBe('context-overflow');
    expect(await page.getByTestId('chat-input').inputValue()).toBe(long);
    expect(await page.getByTestId('user-message').count()).toBe(1);
    await page.close();
  });

  it('renders model output as sanitized markdown, never as raw HTML', async () => {
    const page = await browser.newPage();
    await openFake(page);
    await ask(page, 'show <html-test> please');
    const reply = page.getByTestId('assistant-message').last();
    await expect.poll(() => reply.getAttribute('data-status'), { timeout: 30_000 }).toBe('done');
    expect(await reply.locator('img').count()).toBe(0);
    expect(await reply.textContent()).toContain('<img src=x');
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await page.close();
  });

  it('keeps the conversation when the device is lost mid-generation, and chats again after a restart', async () => {
    const page = await browser.newPage();
    await openFake(page, '&fakeDelay=200');
    await askInNewConversation(page, 'Tell me a long story', 15_000);
    await page.evaluate(() => (window as unknown as { __sparsescope: { simulateDeviceLoss(): Promise<void> } }).__sparsescope.simulateDeviceLoss());
    const banner = page.getByTestId('error-banner');
    await expect.poll(() => banner.textContent(), { timeout: 15_000 }).toMatch(/device lost/i);
    await expect.poll(() => page.getByTestId('assistant-message').last().getAttribute('data-status'), { timeout: 10_000 }).toBe('interrupted');
    expect(await page.getByTestId('user-message').last().textContent()).toContain('Tell me a long story');
    await screenshot(page, 'fake-device-lost');
    await page.getByTestId('restart-engine').click();
    await expect.poll(() => page.getByTestId('model-status').getAttribute('data-status'), { timeout: 60_000 }).toBe('ready');
    await ask(page, 'Again');
    await expect.poll(() => page.getByTestId('assistant-message').count(), { timeout: 10_000 }).toBe(2);
    expect(await page.getByTestId('user-message').count()).toBe(2);
    await page.close();
  });
});
