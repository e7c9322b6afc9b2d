/**
 * Thinking mode in the chat, against the FakeEngine (`?engine=fake`): a prompt with the marker
 * `<think-test>` makes the double reply `<think>Two and two make four.</think>It is 4.` with its tags cut
 * across tokens, as a DeepSeek thinking model streams it. The reasoning shows as one collapsed line
 * ("Thinking…") while it streams, opens on a click, and stays with the saved message across a reload;
 * the thinking switch shows for a format that has a thinking mode (the double reports DeepSeek-V3.2's).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { ask, launchBrowser, openFakePage, screenshot, startServer, type Server } from './harness.ts';

let server: Server;
let browser: BrowserContext;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

type Hook = { state(): { conversation: { messages: { role: string; content: string }[] }; analysis?: { tokens: { text: string }[] } } };

describe('thinking mode with the FakeEngine', () => {
  it('streams the reasoning collapsed, shows the answer below, keeps the reasoning in the saved message', async () => {
    const page = await browser.newPage();
    // 300 ms a token: the reasoning (5 of its tokens) streams for more than a second
    await openFakePage(page, server.url, '&fakeDelay=300');
    await page.getByText('Sampling settings').click();
    await page.getByTestId('setting-thinking').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('setting-thinking').isChecked()).toBe(false);

    await page.getByText(/^Conversations/).click();
    await page.getByTestId('new-conversation').click();
    await ask(page, '<think-test> what is 2+2?');
    const reply = page.getByTestId('assistant-message').last();
    const reasoning = reply.getByTestId('reasoning');
    // while it streams: one collapsed line, no tag and no reasoning text on the page
    await expect.poll(() => reasoning.getAttribute('data-streaming'), { timeout: 30_000 }).toBe('true');
    expect(await reply.getByTestId('reasoning-toggle').textContent()).toContain('Thinking…');
    expect(await reply.getByTestId('reasoning-text').count()).toBe(0);
    expect(await reply.textContent()).not.toMatch(/<th|Two and two/);
    await screenshot(page, 'thinking-streaming');

    await expect.poll(() => reply.getAttribute('data-status'), { timeout: 60_000 }).toBe('done');
    expect(await reasoning.getAttribute('data-streaming')).toBe('false');
    expect(await reply.getByTestId('reasoning-toggle').textContent()).toContain('Reasoning');
    const text = await reply.textContent();
    expect(text).toContain('It is 4.');
    expect(text).not.toMatch(/<\/?think>|Two and two/);
    await reply.getByTestId('reasoning-toggle').click();
    expect(await reply.getByTestId('reasoning-text').textContent()).toBe('Two and two make four.');
    await screenshot(page, 'thinking-open');

    // the saved message keeps the reasoning; the next prompt drops it (the renderer: src/model/chat-formats/)
    const saved = await page.evaluate(() => (window as unknown as { __sparsescope: Hook }).__sparsescope.state().conversation.messages.at(-1)!.content);
    expect(saved.startsWith('<think>Two and two make four.</think>It is 4.')).toBe(true);
    await page.reload();
    const after = page.getByTestId('assistant-message').last();
    await after.getByTestId('reasoning').waitFor({ timeout: 30_000 });
    expect(await after.getByTestId('reasoning-toggle').textContent()).toContain('Reasoning');
    expect(await after.textContent()).toContain('It is 4.');

    // the switch is remembered
    await page.getByText('Sampling settings').click();
    await page.getByTestId('setting-thinking').check();
    await page.reload();
    await page.getByTestId('model-status').waitFor();
    await expect.poll(() => page.getByTestId('model-status').getAttribute('data-status'), { timeout: 90_000 }).toBe('ready');
    await page.getByText('Sampling settings').click();
    expect(await page.getByTestId('setting-thinking').isChecked()).toBe(true);

    // switched on, it reaches the engine: the rendered prompt opens the assistant turn with <think>, the
    // reply streams inside its reasoning from its first token, and the answer shows below it
    await ask(page, '<think-test> and 3+3?');
    const on = page.getByTestId('assistant-message').last();
    await expect.poll(() => on.getByTestId('reasoning').getAttribute('data-streaming'), { timeout: 30_000 }).toBe('true');
    const prompt = await page.evaluate(() =>
      (window as unknown as { __sparsescope: Hook }).__sparsescope
        .state()
        .analysis!.tokens.map((t) => t.text)
        .join(''),
    );
    expect(prompt).toContain('<|assistant|><think>');
    await expect.poll(() => on.getAttribute('data-status'), { timeout: 60_000 }).toBe('done');
    expect(await on.textContent()).toContain('It is 4.');
    expect(await on.textContent()).not.toMatch(/<\/?think>|Two and two/);
    await page.close();
  });
});
