/**
 * The page with the REAL engine: a random-weight deepseek32 GGUF (generated here, served with Range and
 * CORS from 127.0.0.1) loads through `?model=<url>` into the Worker's WebGPU engine on chromium's
 * SwiftShader, a reply streams, and the indexer heatmap shows the positions the engine picked.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { writeFixture } from '../src/tools/fixture/fixture.ts';
import { ask, launchBrowser, screenshot, serveFiles, startServer, watchConsole, type Server } from './harness.ts';

let server: Server;
let browser: BrowserContext;
let files: Awaited<ReturnType<typeof serveFiles>>;
let modelUrl: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-e2e-model-'));
  const path = join(dir, 'fixture.gguf');
  await writeFixture(path, { arch: 'deepseek32', gating: 'sigmoid', dims: { topK: 4 }, seed: 5 });
  const bytes = readFileSync(path);
  files = await serveFiles((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'Range');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Length, Content-Range, Accept-Ranges');
    res.setHeader('Accept-Ranges', 'bytes');
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
    if (m) {
      const start = Number(m[1]);
      const end = m[2] ? Math.min(Number(m[2]), bytes.length - 1) : bytes.length - 1;
      res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${bytes.length}`, 'Content-Length': end - start + 1 });
      return void res.end(bytes.subarray(start, end + 1));
    }
    res.writeHead(200, { 'Content-Length': bytes.length });
    res.end(bytes);
  });
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
    await page.goto(`${server.url}?model=${encodeURIComponent(modelUrl)}`);
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
});
