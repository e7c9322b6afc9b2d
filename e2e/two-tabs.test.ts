/**
 * Two tabs of the page (one browser profile, one IndexedDB) saving conversations at once lose nothing
 * (src/ui/lib/db.ts): replies streaming in both tabs into different conversations are all kept, and when
 * both tabs add to the SAME conversation, the stored copy is never overwritten by a tab that had not seen
 * the other's messages — each tab's turn survives. What is stored is read from IndexedDB itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { ask, launchBrowser, openFakePage, startServer, type Server } from './harness.ts';

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

type Stored = { id: string; title: string; messages: { role: string; content: string }[] };

/** Every conversation in the page's IndexedDB, read directly (not through the app). */
const storedConversations = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<Stored[]>((resolve, reject) => {
        const req = indexedDB.open('sparsescope');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const get = req.result.transaction('conversations').objectStore('conversations').getAll();
          get.onsuccess = () => resolve(get.result as Stored[]);
          get.onerror = () => reject(get.error);
        };
      }),
  );
const userTurns = (c: Stored) => c.messages.filter((m) => m.role === 'user').map((m) => m.content);

async function replyDone(page: Page, count: number): Promise<void> {
  await expect.poll(() => page.getByTestId('assistant-message').count(), { timeout: 30_000 }).toBe(count);
  await expect.poll(() => page.getByTestId('assistant-message').last().getAttribute('data-status'), { timeout: 60_000 }).toBe('done');
}

async function newConversation(page: Page): Promise<void> {
  await page.getByText(/^Conversations/).click();
  await page.getByTestId('new-conversation').click();
}

describe('two tabs saving conversations at once', () => {
  it('keep every message, in different conversations and in the same one', async () => {
    const a = await browser.newPage();
    const b = await browser.newPage();
    await openFakePage(a, server.url);
    await openFakePage(b, server.url);

    // Different conversations, replies streaming in both tabs at the same time.
    await newConversation(a);
    await newConversation(b);
    // Sent one right after the other; the replies stream, and are saved, in both tabs at once.
    await ask(a, 'alpha from tab A');
    await ask(b, 'beta from tab B');
    await Promise.all([replyDone(a, 1), replyDone(b, 1)]);
    let stored = await storedConversations(a);
    expect(stored.map(userTurns)).toEqual(expect.arrayContaining([['alpha from tab A'], ['beta from tab B']]));
    expect(stored.find((c) => userTurns(c)[0] === 'alpha from tab A')!.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(stored.find((c) => userTurns(c)[0] === 'beta from tab B')!.messages.map((m) => m.role)).toEqual(['user', 'assistant']);

    // The same conversation open in both tabs (after a reload each lists both), then both add a turn at once.
    for (const page of [a, b]) {
      await page.reload();
      await expect.poll(() => page.getByTestId('model-status').getAttribute('data-status'), { timeout: 60_000 }).toBe('ready');
      await page.getByText(/^Conversations/).click();
      await page.getByRole('button', { name: 'beta from tab B', exact: true }).click();
      await expect.poll(() => page.getByTestId('user-message').first().textContent(), { timeout: 30_000 }).toContain('beta from tab B');
      expect(await page.getByTestId('assistant-message').count()).toBe(1);
    }
    await ask(a, 'second turn from A');
    await ask(b, 'second turn from B');
    await Promise.all([replyDone(a, 2), replyDone(b, 2)]);

    stored = await storedConversations(a);
    const turns = stored.map(userTurns);
    console.log(`stored after both tabs added to one conversation: ${JSON.stringify(turns)}`);
    // Nothing lost: each tab's second turn is stored after the shared first turn, with its reply.
    for (const mine of ['second turn from A', 'second turn from B']) {
      const c = stored.find((x) => userTurns(x).includes(mine));
      expect(c, mine).toBeDefined();
      expect(userTurns(c!)).toEqual(['beta from tab B', mine]);
      expect(c!.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    }
    expect(turns).toContainEqual(['alpha from tab A']);
    await a.close();
    await b.close();
  });
});
