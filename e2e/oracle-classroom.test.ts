/**
 * The classroom on a model without a lightning indexer (a random-weight qwen3 GGUF, loaded by URL into the
 * Worker's WebGPU engine on chromium's SwiftShader): the top-k slider runs the oracle (the k past tokens of
 * largest dense attention weight). At k = 2 every traced row's picks are the top 2 of its own dense
 * weights (selected again here), the dense heatmap outlines exactly those, the view says it is the
 * oracle, and the step's sparse and dense candidates come back with their KL.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext } from 'playwright-core';
import { writeDenseFixture } from '../src/tools/fixture/dense-fixture.ts';
import type { LayerTrace, TokenTrace } from '../src/api/protocol.ts';
import { launchBrowser, screenshot, serveRangeFiles, startServer, watchConsole, type Server } from './harness.ts';

const PROMPT = 'The cat sat on the mat and the dog sat on the log.';
const K = 2;

let server: Server;
let browser: BrowserContext;
let files: Awaited<ReturnType<typeof serveRangeFiles>>;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-e2e-oracle-'));
  const path = join(dir, 'qwen3.gguf');
  await writeDenseFixture(path, { arch: 'qwen3', seed: 12, dims: { embd: 64, layers: 2, heads: 4, headsKv: 2, headDim: 16, ffn: 128, context: 256 } });
  files = await serveRangeFiles(new Map([['/qwen3.gguf', readFileSync(path)]]));
  server = await startServer();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  server?.stop();
  files?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Hook {
  state(): { layer: number; analysis?: { k?: number; rows: TokenTrace[] } };
  heatmaps: Record<string, { outlined?: number[][] } | undefined>;
}

/** The k largest (ties to the lower position), ascending: the oracle's rule, written out again here. */
function topK(weights: number[], k: number): number[] {
  return weights
    .map((w, i) => [w, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i)
    .sort((a, b) => a - b);
}

describe('the classroom without an indexer: the oracle top-k', () => {
  it('k = 2 attends to the top 2 of each row’s dense weights, outlined on the dense heatmap', async () => {
    const page = await browser.newPage();
    const log = watchConsole(page);
    await page.goto(`${server.url}?backend=webgpu&model=${encodeURIComponent(`${files.url}/qwen3.gguf`)}&prompt=${encodeURIComponent(PROMPT)}`);
    await expect
      .poll(() => page.getByTestId('model-status').getAttribute('data-status'), { timeout: 180_000 })
      .toBe('ready')
      .catch(async (e) => {
        throw new Error(`${e.message}\nstatus: ${await page.getByTestId('model-status').textContent()}\nconsole:\n${log.join('\n')}`);
      });
    await page.getByTestId('tab-classroom').click();
    await page.getByTestId('classroom-oracle').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('classroom-oracle').textContent()).toContain('oracle');
    await page.getByTestId('topk-slider').fill(String(K));
    const state = () => page.evaluate(() => (window as unknown as { __sparsescope: Hook }).__sparsescope.state());
    await expect.poll(async () => (await state()).analysis?.k, { timeout: 240_000 }).toBe(K);
    await expect.poll(async () => (await state()).analysis?.rows.some((r) => r.layers[0].oracle !== undefined), { timeout: 120_000 }).toBe(true);
    const s = await state();
    const rows = s.analysis!.rows;
    expect(rows.length).toBeGreaterThan(2 * K);
    for (const r of rows) {
      for (const l of r.layers as LayerTrace[]) {
        expect(l.denseWeights).toHaveLength(r.position + 1);
        expect(l.oracle).toEqual(topK(l.denseWeights!, K));
      }
    }
    const outlined = await page.evaluate(() => (window as unknown as { __sparsescope: Hook }).__sparsescope.heatmaps['dense-heatmap']?.outlined);
    expect(outlined).toEqual(rows.map((r) => r.layers[s.layer].oracle));
    expect(await page.getByTestId('indexer-summary').getAttribute('data-selector')).toBe('oracle');
    const step = page.getByTestId('step-result');
    await step.waitFor({ timeout: 120_000 });
    const kl = Number(await step.getAttribute('data-kl'));
    console.log(`oracle classroom, k = ${K} over ${rows.length} tokens: KL(dense ‖ sparse) ${kl.toFixed(4)} nats`);
    expect(kl).toBeGreaterThan(0);
    await screenshot(page, 'oracle-classroom');
    await page.close();
  });
});
