/**
 * Hostile model output is inert: the FakeEngine's scripted reply (`/say TEXT`, src/ui/dev/fake-engine.ts)
 * makes "the model" emit script-bearing HTML, javascript: links (markdown and HTML), iframes, a table of
 * thousands of rows and one of thousands of columns, and nesting thousands deep. Served by `npm start`
 * (the production build, under its Content-Security-Policy). Nothing may run (no dialog, no global set by
 * a payload, no CSP violation — an inline handler that reached the DOM would report one), no link may
 * keep a javascript: URL, tables are cut to the renderer's limits, and the page still answers after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { MARKDOWN_LIMITS } from '../src/ui/chat/markdown.ts';
import { ask, launchBrowser, openFakePage, startNpmStart, watchCspViolations, type Server } from './harness.ts';

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

// Each payload, if it ever ran, would set window.__pwned or open a dialog.
const SCRIPTS = [
  `<img src=x onerror="window.__pwned='img';alert(1)">`,
  `<script>window.__pwned='script'</script>`,
  `<svg onload="window.__pwned='svg'"></svg>`,
  `<iframe src="javascript:window.__pwned='iframe'"></iframe>`,
  `<a href="javascript:window.__pwned='a'">html link</a>`,
  `[markdown link](javascript:window.__pwned='md')`,
  `[reference link][evil]\n\n[evil]: javascript:window.__pwned='ref'`,
  `<javascript:window.__pwned='autolink'>`,
  `![image](javascript:window.__pwned='md-img')`,
  `[data link](data:text/html,<script>parent.__pwned='data'</script>)`,
].join('\n\n');
const TALL_ROWS = 3000;
const WIDE_COLUMNS = 3000;
// `⟪N×PIECE⟫`: the fake engine repeats PIECE N times, `#` the index (src/ui/dev/fake-engine.ts).
const tallTable = `| a | b | c |\n|---|---|---|\n⟪${TALL_ROWS}×| # | x | y |\n⟫`;
const wideTable = `|⟪${WIDE_COLUMNS}×c#|⟫\n|⟪${WIDE_COLUMNS}×-|⟫\n|⟪${WIDE_COLUMNS}×#|⟫`;
const deepQuotes = `⟪5000×>⟫ deep quote`;
const deepList = `⟪2000×- ⟫deep list`;

async function say(page: Page, text: string) {
  const before = await page.getByTestId('assistant-message').count();
  await ask(page, `/say ${text}`);
  await expect.poll(() => page.getByTestId('assistant-message').count(), { timeout: 30_000 }).toBe(before + 1);
  const reply = page.getByTestId('assistant-message').last();
  await expect.poll(() => reply.getAttribute('data-status'), { timeout: 60_000 }).toBe('done');
  return reply;
}

describe('hostile markdown from the model', () => {
  it('renders script, javascript: links, iframes, huge tables and deep nesting inert and bounded', async () => {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    const cspViolations = await watchCspViolations(page);
    await openFakePage(page, server.url);
    const pwned = () => page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned ?? null);

    const scripts = await say(page, SCRIPTS);
    expect(await scripts.locator('img, script, iframe, svg, object, embed').count()).toBe(0);
    const hrefs = await page.locator('[data-testid=messages] a[href]').evaluateAll((as) => as.map((a) => a.getAttribute('href')!));
    expect(hrefs.filter((h) => /^\s*(javascript|data|vbscript):/i.test(h))).toEqual([]);
    expect(await scripts.textContent()).toContain('<script>'); // shown as text, not run

    const tall = await say(page, tallTable);
    expect(await tall.locator('tr').count()).toBe(MARKDOWN_LIMITS.tableRows + 1); // the header and the first rows
    expect(await tall.textContent()).toContain(`${TALL_ROWS - MARKDOWN_LIMITS.tableRows} more rows not shown`);

    const wide = await say(page, wideTable);
    expect(await wide.locator('th').count()).toBe(MARKDOWN_LIMITS.tableColumns);
    expect(await wide.textContent()).toContain(`${WIDE_COLUMNS - MARKDOWN_LIMITS.tableColumns} more columns not shown`);

    const quotes = await say(page, deepQuotes);
    expect(await quotes.textContent()).toContain('deep quote');
    const list = await say(page, deepList);
    expect(await list.textContent()).toContain('deep list');

    // Still responsive: the model answers an ordinary message after all that.
    await ask(page, 'Tell me about the garden');
    await expect.poll(() => page.getByTestId('assistant-message').last().getAttribute('data-status'), { timeout: 60_000 }).toBe('done');
    expect(await page.getByTestId('assistant-message').count()).toBe(6);

    expect(await pwned()).toBeNull();
    expect(dialogs).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    await page.close();
  });
});
