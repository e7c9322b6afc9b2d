/**
 * The whole flow on the shipped model (public/models), with the REAL engine in chromium's
 * SwiftShader WebGPU, served by `npm start` as its test build (the production build + service worker, plus
 * the `window.__sparsescope` hook this test reads):
 * the bundled model loads → a reply of ≥ 20 tokens streams → the indexer heatmap outlines exactly the
 * positions in the engine's trace, which equal the CPU reference's top-k run here in Node → the top-k
 * slider changes the trace → reload with the network off and chat again → a dropped corrupt file shows in
 * error-banner and the conversation stays. Screenshots of every view go to docs/screenshots (README).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { ReferenceModel } from '../src/model/reference/forward.ts';
import { loadReference } from '../src/model/reference/testing/llama-ref.ts';
import {
  ask,
  DOC_SCREENSHOTS,
  launchBrowser,
  screenshot,
  startNpmStart,
  watchConsole,
  watchCspViolations,
  waitForOfflineCache,
  type Server,
} from './harness.ts';

const MODEL = join(process.cwd(), 'public', 'models', 'sparsescope-kjv-5m-q8_0.gguf');
// ~80 tokens, so the indexer's top-64 really selects (with fewer visible tokens it keeps them all)
const PROMPT =
  'In the beginning God created the heaven and the earth. And the earth was without form, and void; and darkness ' +
  'was upon the face of the deep. And the Spirit of God moved upon the face of the waters. And God said, Let there ' +
  'be light: and there was light. And God saw the light, that it was good:';
const MAX_TOKENS = 24;
// The classroom re-runs its prompt three times per k (trace, sparse and dense step): short, for SwiftShader.
const CLASSROOM_PROMPT = 'And God said, Let there be light: and there was light.';
const CLASSROOM_K = 4;

type Row = { position: number; layers: { chosen?: number[]; indexScores?: number[]; routerProbs?: number[] }[] };
type Hook = {
  heatmaps: Record<string, { outlined?: number[][] }>;
  state(): {
    layer: number;
    analysis?: { source: string; k?: number; tokens: { id: number; text: string }[]; rows: Row[] };
    conversation: { messages: { role: string; content: string; tokens?: unknown[]; status?: string; stats?: { tokensPerSecond: number } }[] };
  };
};

let server: Server;
let browser: BrowserContext;
let reference: ReferenceModel;

beforeAll(async () => {
  // The test build (with window.__sparsescope); rebuilt only if the sources changed since the last one.
  server = await startNpmStart({ testBuild: true });
  browser = await launchBrowser();
  reference = (await loadReference(MODEL)).model;
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

type SpeedRun = { method: string; indexTopK: number; layers: { ms: number }[] };

const hookState = (page: Page) =>
  page.evaluate(() => {
    const h = (window as unknown as { __sparsescope: Hook }).__sparsescope;
    const s = h.state();
    return { layer: s.layer, analysis: s.analysis, outlined: h.heatmaps['indexer-heatmap']?.outlined, messages: s.conversation.messages };
  });

async function waitReady(page: Page, log: string[]): Promise<void> {
  await expect
    .poll(() => page.getByTestId('model-status').getAttribute('data-status'), { timeout: 180_000 })
    .toBe('ready')
    .catch(async (e) => {
      throw new Error(`${e.message}\nstatus: ${await page.getByTestId('model-status').textContent()}\nconsole:\n${log.join('\n')}`);
    });
}

async function chat(page: Page, text: string): Promise<void> {
  await ask(page, text);
  await expect.poll(() => page.getByTestId('assistant-message').last().getAttribute('data-status'), { timeout: 240_000 }).toBe('done');
}

/**
 * The CPU reference's indexer picks at `position` for every layer, over the same token ids. Where a pick
 * differs, it must be a tie at the k-th score (f32 summation order), not a different selection.
 */
function expectReferencePicks(ids: number[], rows: Row[], k: number): void {
  const s = reference.session({ trace: true, indexTopK: k });
  const traces = ids.map((t) => s.step(t).trace!);
  let compared = 0;
  for (const row of rows) {
    const ref = traces[row.position];
    row.layers.forEach((l, il) => {
      const want = ref.layers[il].indexer!;
      const got = new Set(l.chosen);
      const kth = [...want.scores].sort((a, b) => b - a)[Math.min(k, want.scores.length) - 1];
      const differing = want.chosen.filter((p) => !got.has(p)).concat(l.chosen!.filter((p) => !want.chosen.includes(p)));
      for (const p of differing)
        expect(Math.abs(want.scores[p] - kth), `layer ${il} row ${row.position} key ${p}`).toBeLessThan(1e-4 * Math.max(1, Math.abs(kth)));
      expect(l.chosen!.length).toBe(want.chosen.length);
      compared++;
    });
  }
  expect(compared).toBeGreaterThan(0);
}

describe('the bundled model, end to end', () => {
  it('chats, shows the engine’s picks, follows the slider, works offline and survives a corrupt file', async () => {
    const page = await browser.newPage();
    const log = watchConsole(page);
    const cspViolations = await watchCspViolations(page); // every view, under npm start's policy
    // The classroom prompt comes from the shareable URL, so the classroom's first trace is already the short one.
    // backend=webgpu: the Speed view times GPU passes; `auto` would pick the CPU on SwiftShader (docs/backends.md)
    await page.goto(`${server.url}?backend=webgpu&prompt=${encodeURIComponent(CLASSROOM_PROMPT)}`);
    await waitReady(page, log);
    expect(await page.getByTestId('model-status').textContent()).toMatch(/SparseScope KJV/);

    // Deterministic and long enough: greedy, exactly MAX_TOKENS new tokens unless the model ends the reply.
    await page.getByText('Sampling settings').click();
    await page.getByTestId('setting-temperature').fill('0');
    await page.getByTestId('setting-maxTokens').fill(String(MAX_TOKENS));
    await chat(page, PROMPT);
    const after = await hookState(page);
    const reply = after.messages.at(-1)!;
    console.log(`bundled model reply (${reply.tokens?.length} tokens): ${JSON.stringify(reply.content)}`);
    expect(reply.tokens!.length).toBeGreaterThanOrEqual(20);
    // The reply's tok/s (the engine's clock) and the live meter's (the page's clock) measure the same decode span.
    const meter = await page.evaluate(() => {
      const m = (
        window as unknown as { __sparsescope: { state(): { metrics: { tokens: number; firstTokenAt: number; lastAt: number } } } }
      ).__sparsescope.state().metrics;
      return (m.tokens - 1) / ((m.lastAt - m.firstTokenAt) / 1000);
    });
    console.log(`decode speed: reply ${reply.stats!.tokensPerSecond.toFixed(3)} tok/s, live meter ${meter.toFixed(3)} tok/s`);
    expect(reply.stats!.tokensPerSecond / meter).toBeGreaterThan(0.8);
    expect(reply.stats!.tokensPerSecond / meter).toBeLessThan(1.25);
    await screenshot(page, 'chat', DOC_SCREENSHOTS);

    // Indexer view: the outlined cells are the trace's chosen positions, row for row, on every layer.
    await page.getByTestId('tab-indexer').click();
    await page.getByTestId('indexer-heatmap').waitFor();
    const a = after.analysis!;
    expect(a.source).toBe('chat');
    expect(a.rows.length).toBeGreaterThanOrEqual(20);
    expect(a.tokens.length).toBeGreaterThan(64);
    const layers = a.rows[0].layers.length;
    for (let l = 0; l < layers; l++) {
      await page.getByTestId('layer-select').selectOption(String(l));
      await expect.poll(async () => (await hookState(page)).layer).toBe(l);
      const drawn = (await hookState(page)).outlined;
      expect(drawn).toEqual(a.rows.map((r) => r.layers[l].chosen));
    }
    // ... and the trace is the model's: the CPU reference picks the same 64 keys per row (file's top-k 64).
    expect(a.rows.at(-1)!.layers[1].chosen!.length).toBe(64);
    expectReferencePicks(
      a.tokens.map((t) => t.id),
      a.rows,
      64,
    );
    await page.getByTestId('layer-select').selectOption('1');
    await screenshot(page, 'indexer', DOC_SCREENSHOTS);
    // The Experts view opens on the first MoE layer when the selected one is dense (no router there).
    const firstMoe = a.rows[0].layers.findIndex((l) => l.routerProbs !== undefined);
    expect(firstMoe).toBeGreaterThan(0); // the bundled model starts with a dense layer
    await page.getByTestId('layer-select').selectOption('0');
    await page.getByTestId('tab-experts').click();
    await page.getByTestId('expert-heatmap').waitFor();
    await expect.poll(async () => (await hookState(page)).layer).toBe(firstMoe);
    await page.getByTestId('layer-select').selectOption('1');
    await screenshot(page, 'experts', DOC_SCREENSHOTS);
    await page.getByTestId('tab-memory').click();
    await page.getByTestId('memory-v32').waitFor();
    await screenshot(page, 'memory', DOC_SCREENSHOTS);

    // Classroom: the slider re-runs the step with another k; the trace follows it.
    await page.getByTestId('tab-classroom').click();
    const t0 = Date.now();
    await expect
      .poll(async () => (await hookState(page)).analysis?.source, { timeout: 240_000 })
      .toBe('classroom')
      .catch(async (e) => {
        const banner = await page
          .getByTestId('error-banner')
          .textContent()
          .catch(() => 'none');
        throw new Error(`${e.message}\nerror-banner: ${banner}\nconsole:\n${log.join('\n')}`);
      });
    console.log(`classroom trace of the prompt: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await expect.poll(async () => (await hookState(page)).analysis?.tokens.map((t) => t.text).join(''), { timeout: 240_000 }).toContain('there was light.');
    const before = (await hookState(page)).analysis!;
    expect(before.rows.length).toBeGreaterThan(2 * CLASSROOM_K);
    await page.getByTestId('topk-slider').fill(String(CLASSROOM_K));
    await expect.poll(async () => (await hookState(page)).analysis?.k, { timeout: 240_000 }).toBe(CLASSROOM_K);
    await expect.poll(async () => (await hookState(page)).analysis?.rows.length ?? 0, { timeout: 120_000 }).toBe(before.rows.length);
    const moved = await hookState(page);
    const last = moved.analysis!.rows.at(-1)!;
    expect(last.layers[1].chosen!.length).toBe(CLASSROOM_K);
    expect(moved.analysis!.rows.map((r) => r.layers[1].chosen)).not.toEqual(before.rows.map((r) => r.layers[1].chosen));
    expect(moved.outlined).toEqual(moved.analysis!.rows.map((r) => r.layers[moved.layer].chosen));
    expectReferencePicks(
      moved.analysis!.tokens.map((t) => t.id),
      moved.analysis!.rows,
      CLASSROOM_K,
    );
    await page.getByTestId('step-result').waitFor({ timeout: 120_000 });
    expect(new URL(page.url()).searchParams.get('k')).toBe(String(CLASSROOM_K));
    await screenshot(page, 'classroom', DOC_SCREENSHOTS);

    // Speed: per-layer decode times of the real engine, sparse at the classroom's k against dense.
    await page.getByTestId('tab-speed').click();
    const t1 = Date.now();
    await page.getByTestId('speed-measure').click();
    await page.getByTestId('speed-bars').waitFor({ timeout: 300_000 });
    console.log(`speed view: two profiles of 8 decode steps in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    const speed = await page.evaluate(
      () => (window as unknown as { __sparsescope: { state(): { speed?: { sparse: SpeedRun; dense: SpeedRun } } } }).__sparsescope.state().speed,
    );
    expect(speed!.sparse.indexTopK).toBe(CLASSROOM_K);
    expect(speed!.dense.indexTopK).toBe(0);
    for (const run of [speed!.sparse, speed!.dense]) {
      expect(run.layers.length).toBe(layers);
      for (const l of run.layers) expect(l.ms).toBeGreaterThan(0);
    }
    expect(await page.getByTestId('speed-method').textContent()).toContain(speed!.sparse.method === 'timestamp-query' ? 'timestamp' : 'CPU clock');
    await screenshot(page, 'speed', DOC_SCREENSHOTS);
    await page.getByTestId('tab-indexer').click();

    // Offline: the service worker has the app and the model; reload with the network off and chat again.
    await waitForOfflineCache(page);
    await browser.setOffline(true);
    try {
      await page.reload();
      await waitReady(page, log);
      expect(await page.getByTestId('user-message').count()).toBe(1);
      // The reply was saved once it had finished: whole, with its status and stats, not mid-stream.
      const restored = page.getByTestId('assistant-message').first();
      expect(await restored.getAttribute('data-status')).toBe('done');
      expect(await restored.textContent()).toContain(reply.content.trim().split('\n').at(-1));
      expect(await restored.textContent()).toMatch(/tok\/s/);
      await page.getByText('Sampling settings').click();
      await page.getByTestId('setting-maxTokens').fill('4');
      await chat(page, 'And God called the light Day');
      expect(await page.getByTestId('assistant-message').count()).toBe(2);
      expect(((await page.getByTestId('assistant-message').last().textContent()) ?? '').length).toBeGreaterThan(0);
    } finally {
      await browser.setOffline(false);
    }

    // A corrupt file dropped on the page: a clear error, the conversation untouched, the model still there.
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0, 1, 2])], 'broken.gguf'));
      document.querySelector('.app')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    const banner = page.getByTestId('error-banner');
    await banner.waitFor({ timeout: 30_000 });
    console.log(`corrupt file: ${await banner.textContent()}`);
    expect(await page.getByTestId('user-message').count()).toBe(2);
    expect(await page.getByTestId('assistant-message').count()).toBe(2);
    expect(await page.getByTestId('user-message').first().textContent()).toContain('In the beginning');
    // The engine keeps the model it had when a new file fails, and the page says so: chat goes on.
    await expect.poll(() => page.getByTestId('model-status').getAttribute('data-status'), { timeout: 10_000 }).toBe('ready');
    expect(await page.getByTestId('model-status').textContent()).toMatch(/SparseScope KJV/);
    expect(await page.getByTestId('chat-input').getAttribute('placeholder')).toMatch(/^Ask something/);
    await screenshot(page, 'models', DOC_SCREENSHOTS);
    expect(await cspViolations()).toEqual([]);
    await page.close();
  }, 600_000);
});
