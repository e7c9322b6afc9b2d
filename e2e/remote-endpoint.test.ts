/**
 * The playground with a remote endpoint: `sparsescope serve --backend cpu` (the bundled model, started
 * here) as an OpenAI-compatible server. The page (local side: the FakeEngine double, so no GPU model is
 * needed) connects to it from the remote panel, a chat reply streams over SSE with the live meters, and
 * is the server's own answer to the request the page sent; Stop ends a long reply early; the views say
 * they need local weights, and the side-by-side view runs the local and the remote model on one prompt;
 * "Use the local model" goes back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { ask, launchBrowser, openFakePage, screenshot, startServer, type Server } from './harness.ts';

let app: Server;
let browser: BrowserContext;
let serve: ChildProcess;
let baseUrl: string;

function startServe(): Promise<string> {
  return new Promise((resolve, reject) => {
    serve = spawn(
      process.execPath,
      ['--import', 'tsx', '--import', './scripts/wgsl-register.mjs', 'src/server/main.ts', 'serve', '--backend', 'cpu', '--port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    serve.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+\/v1)/.exec(out);
      if (m) resolve(m[1]);
    });
    serve.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    serve.on('exit', (code) => reject(new Error(`sparsescope serve exited (${code}):\n${out}`)));
  });
}

beforeAll(async () => {
  [baseUrl, app] = await Promise.all([startServe(), startServer()]);
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  serve?.kill();
});

describe('a remote endpoint in the playground', () => {
  it('connects, streams a reply with tokens/s, the server’s own text; Stop ends a long one; back to local', async () => {
    const page = await browser.newPage();
    await openFakePage(page, app.url);
    /** The last message's text in the page's store (the e2e hook of the dev build). */
    const lastReply = () =>
      page.evaluate(
        () =>
          (window as unknown as { __sparsescope: { state(): { conversation: { messages: { content: string }[] } } } }).__sparsescope
            .state()
            .conversation.messages.at(-1)!.content,
      );
    const localStatus = await page.getByTestId('model-status').textContent();

    await page.locator('[data-testid="remote-panel"] summary').click();
    await page.getByTestId('remote-url').fill(baseUrl);
    await page.getByTestId('remote-list').click();
    await expect.poll(() => page.getByTestId('remote-model').inputValue(), { timeout: 30_000 }).toBe('sparsescope-kjv-5m');
    await page.getByTestId('remote-connect').click();
    await expect.poll(() => page.getByTestId('remote-panel').getAttribute('data-connected'), { timeout: 30_000 }).toBe('true');
    await expect.poll(() => page.getByTestId('model-status').getAttribute('data-status')).toBe('ready');
    expect(await page.getByTestId('remote-views-notice').textContent()).toMatch(/weights/);

    // A short reply: the page's request, replayed to the server without streaming, gives the same text.
    await page.locator('details.settings summary').click();
    await page.getByTestId('setting-maxTokens').fill('12');
    const sent = page.waitForRequest((r) => r.url().endsWith('/chat/completions') && r.method() === 'POST');
    await ask(page, 'In the beginning');
    const body = JSON.parse((await sent).postData()!) as Record<string, unknown>;
    expect(body.stream).toBe(true);
    const reply = page.getByTestId('assistant-message').last();
    await expect.poll(() => reply.getAttribute('data-status'), { timeout: 60_000 }).toBe('done');
    const whole = (await (
      await fetch(`${baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, stream: false }),
      })
    ).json()) as {
      choices: { message: { content: string } }[];
    };
    expect(whole.choices[0].message.content.length).toBeGreaterThan(0);
    expect(await lastReply()).toBe(whole.choices[0].message.content);
    expect(Number(await page.getByTestId('tokens-per-second').textContent())).toBeGreaterThan(0);
    await screenshot(page, 'remote-endpoint');

    // A long reply, stopped after its first tokens arrived.
    await page.getByTestId('setting-maxTokens').fill('400');
    await ask(page, 'And God said');
    const long = page.getByTestId('assistant-message').last();
    await expect.poll(() => lastReply(), { timeout: 60_000 }).not.toBe('');
    await page.getByTestId('stop').click();
    await expect.poll(() => long.getAttribute('data-status'), { timeout: 30_000 }).toBe('stopped');
    // Stopped long before its 400 tokens (the server was told: its stream was closed).
    expect((await lastReply()).length).toBeLessThan(400);

    // The classroom's side by side: the local model and the remote one on the same prompt, at once.
    await page.getByTestId('setting-maxTokens').fill('10');
    await page.getByTestId('side-prompt').fill('Let there be light');
    await page.getByTestId('side-run').click();
    for (const side of ['local', 'remote']) {
      await expect.poll(() => page.getByTestId(`side-${side}`).getAttribute('data-status'), { timeout: 60_000 }).toBe('done');
      expect(((await page.getByTestId(`side-${side}-text`).textContent()) ?? '').length).toBeGreaterThan(0);
    }
    await screenshot(page, 'remote-side-by-side');

    await page.getByTestId('remote-disconnect').click();
    await expect.poll(() => page.getByTestId('model-status').textContent()).toBe(localStatus);
    await expect.poll(() => page.getByTestId('views').count()).toBe(1);
  });
});
