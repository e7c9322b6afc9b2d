/**
 * Remote models and saved conversations, with the FakeEngine (`?engine=fake`) for the model work: a URL
 * download with its one progress bar (bytes, speed, time left) and cancel; a finished download cached,
 * listed with its size, loaded again from the cache and deleted; conversations exported as JSON and
 * imported back, and a file that is not an export refused in error-banner. The files come from a local
 * server on another port (so the page fetches cross-origin, as from a model hub) that streams slowly.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { ask, launchBrowser, openFakePage, screenshot, serveFiles, startServer, type Server } from './harness.ts';

const SLOW_BYTES = 8 * 1024 * 1024;
const SMALL_BYTES = 256 * 1024;
const CHUNK = 64 * 1024;

let server: Server;
let browser: BrowserContext;
let files: Awaited<ReturnType<typeof serveFiles>>;
let filesUrl: string;
const requests: string[] = [];

/** A body that starts like a GGUF file (the FakeEngine checks the magic and the size only). */
function ggufLike(bytes: number): Buffer {
  const b = Buffer.alloc(bytes);
  b.write('GGUF', 0, 'latin1');
  b.writeUInt32LE(3, 4);
  return b;
}

/** Streams `body` in CHUNK pieces, one every `everyMs`, with the headers a model hub sends. */
function stream(res: ServerResponse, body: Buffer, everyMs: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length), 'access-control-allow-origin': '*' });
  let at = 0;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    res.write(body.subarray(at, at + CHUNK));
    at += CHUNK;
    if (at >= body.length) {
      clearInterval(timer);
      res.end();
    }
  }, everyMs);
  res.on('close', () => clearInterval(timer));
}

beforeAll(async () => {
  files = await serveFiles((req: IncomingMessage, res: ServerResponse) => {
    requests.push(req.url ?? '');
    if (req.url === '/slow.gguf') return stream(res, ggufLike(SLOW_BYTES), 40); // ~1.6 MB/s: ~5 s
    if (req.url === '/small.gguf') return stream(res, ggufLike(SMALL_BYTES), 5);
    res.writeHead(404, { 'access-control-allow-origin': '*' }).end('not found');
  });
  filesUrl = files.url;
  server = await startServer();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  server?.stop();
  files?.close();
});

const openFake = (page: Page) => openFakePage(page, server.url);

async function loadUrl(page: Page, url: string): Promise<void> {
  await page.getByTestId('model-url-input').fill(url);
  await page.getByTestId('model-url-load').click();
}

describe('remote models and saved conversations (FakeEngine)', () => {
  it('downloads a URL with one progress bar (bytes, speed, time left), and Cancel stops it', async () => {
    const page = await browser.newPage();
    await openFake(page);
    await loadUrl(page, `${filesUrl}/slow.gguf`);
    const progress = page.getByTestId('model-progress');
    // e.g. "downloaded 1.56 MiB of 8.00 MiB · 1.57 MiB/s · 5 s left"
    await expect.poll(() => progress.textContent(), { timeout: 15_000 }).toMatch(/downloaded [\d.]+ [KM]iB of 8(\.0+)? MiB · [\d.]+ [KM]iB\/s · \d+ s left/);
    const value = Number(await progress.locator('progress').getAttribute('value'));
    expect(value).toBeGreaterThan(0);
    expect(value).toBeLessThan(SLOW_BYTES);
    expect(Number(await progress.locator('progress').getAttribute('max'))).toBe(SLOW_BYTES);
    await screenshot(page, 'fake-download-progress');

    await page.getByTestId('cancel-download').click();
    await expect.poll(() => page.getByTestId('error-banner').textContent(), { timeout: 10_000 }).toMatch(/Download cancelled/);
    await expect(progress.count()).resolves.toBe(0);
    // The fake model loaded before is still the one in use, and nothing half-downloaded was kept.
    expect(await page.getByTestId('model-status').getAttribute('data-status')).toBe('ready');
    expect(await page.getByTestId('cached-models').count()).toBe(0);
    await page.close();
  });

  it('caches a downloaded model, lists it with its size, loads it again from the cache and deletes it', async () => {
    const page = await browser.newPage();
    await openFake(page);
    const url = `${filesUrl}/small.gguf`;
    const fetches = () => requests.filter((r) => r === '/small.gguf').length;
    await loadUrl(page, url);
    await expect.poll(() => page.getByTestId('model-status').textContent(), { timeout: 20_000 }).toMatch(/small\.gguf/);
    // the status names the model as soon as the download starts: wait for the server to have seen it
    await expect.poll(fetches, { timeout: 20_000 }).toBe(1);

    const cached = page.getByTestId('cached-models');
    await expect.poll(() => cached.locator('summary').textContent(), { timeout: 10_000 }).toMatch(/Downloaded models \(1, 256(\.0+)? KiB\)/);
    await cached.locator('summary').click();
    expect(await cached.locator('li').textContent()).toMatch(/small\.gguf.*256(\.0+)? KiB/);
    await screenshot(page, 'fake-cached-models');

    // Again, from the list: served from Cache Storage, so the server sees no second request.
    await page.getByRole('button', { name: 'Bundled model' }).click();
    await expect.poll(() => page.getByTestId('model-status').textContent(), { timeout: 20_000 }).not.toMatch(/small\.gguf/);
    await cached.getByRole('button', { name: 'small.gguf' }).click();
    await expect.poll(() => page.getByTestId('model-status').textContent(), { timeout: 20_000 }).toMatch(/small\.gguf/);
    expect(fetches()).toBe(1);

    await cached.getByRole('button', { name: 'delete' }).click();
    await expect.poll(() => cached.count(), { timeout: 10_000 }).toBe(0);
    expect(await page.evaluate(async () => (await (await caches.open('sparsescope-models')).keys()).length)).toBe(0);
    await page.close();
  });

  it('exports conversations as JSON and imports them back; another file is refused in error-banner', async () => {
    const page = await browser.newPage();
    await openFake(page);
    await page.getByText(/^Conversations/).click();
    await page.getByTestId('new-conversation').click();
    await ask(page, 'Export me please');
    await expect.poll(() => page.getByTestId('assistant-message').last().getAttribute('data-status'), { timeout: 30_000 }).toBe('done');
    const reply = await page.getByTestId('assistant-message').last().textContent();

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export JSON' }).click()]);
    const path = await download.path();
    const exported = JSON.parse(readFileSync(path!, 'utf8')) as { format: string; conversations: { title: string; messages: { content: string }[] }[] };
    expect(exported.format).toBe('sparsescope-conversations');
    const mine = exported.conversations.find((c) => c.messages.some((m) => m.content === 'Export me please'));
    expect(mine).toBeDefined();

    // Delete it, then import the export: it comes back whole.
    const list = page.getByTestId('conversations');
    await list.getByRole('button', { name: `Delete ${mine!.title}` }).click();
    await expect.poll(() => list.getByRole('button', { name: mine!.title, exact: true }).count(), { timeout: 10_000 }).toBe(0);
    await list.locator('input[type=file]').setInputFiles(path!);
    await expect.poll(() => list.getByRole('button', { name: mine!.title, exact: true }).count(), { timeout: 10_000 }).toBe(1);
    await list.getByRole('button', { name: mine!.title, exact: true }).click();
    await expect.poll(() => page.getByTestId('user-message').last().textContent(), { timeout: 10_000 }).toContain('Export me please');
    expect(await page.getByTestId('assistant-message').last().textContent()).toBe(reply);

    await list.locator('input[type=file]').setInputFiles({ name: 'notes.json', mimeType: 'application/json', buffer: Buffer.from('{"hello": 1}') });
    await expect.poll(() => page.getByTestId('error-banner').textContent(), { timeout: 10_000 }).toMatch(/not a SparseScope conversations export/);
    await list.locator('input[type=file]').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"conversations": [') });
    await expect.poll(() => page.getByTestId('error-banner').textContent(), { timeout: 10_000 }).toMatch(/broken\.json is not valid JSON/);
    await screenshot(page, 'fake-conversations-import');
    await page.close();
  });
});
