/**
 * Loads on an engine (RuntimeEngine through CpuEngine): a load that a newer one supersedes before it is
 * installed is cancelled with a typed 'aborted' error and never installed; the newer one loads and runs;
 * a load that finished before the next was asked for stays installed until the next replaces it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSparseScopeError } from '../errors.ts';
import { BUNDLED_MODEL } from '../model/reference/testing/bundled-greedy.ts';
import { writeDenseFixture } from '../tools/fixture/dense-fixture.ts';
import { CpuEngine } from './cpu/cpu-engine.ts';

let dir: string;
let dense: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-loads-'));
  dense = join(dir, 'qwen3.gguf');
  await writeDenseFixture(dense, { arch: 'qwen3', seed: 3, dims: { embd: 64, layers: 2, heads: 4, headsKv: 2, headDim: 16, ffn: 128, context: 64 } });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('engine loads', () => {
  it('a superseded load is cancelled (aborted), the newest is installed and runs', async () => {
    const engine = new CpuEngine();
    const first = engine.load({ kind: 'path', path: BUNDLED_MODEL }, () => {});
    const second = engine.load({ kind: 'path', path: dense }, () => {});
    const [a, b] = await Promise.allSettled([first, second]);
    expect(a.status).toBe('rejected');
    const err = (a as PromiseRejectedResult).reason;
    expect(isSparseScopeError(err) && err.code).toBe('aborted');
    expect(b.status).toBe('fulfilled');
    expect((b as PromiseFulfilledResult<{ arch: string }>).value.arch).toBe('qwen3');
    const events: string[] = [];
    await engine.generate({ prompt: 'The cat', maxTokens: 2, sampling: { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, seed: 0 } }, (e) =>
      events.push(e.kind),
    );
    expect(events).toContain('done');
    // one after the other: both install, the second replacing the first
    expect((await engine.load({ kind: 'path', path: BUNDLED_MODEL }, () => {})).arch).toBe('deepseek32');
    expect((await engine.load({ kind: 'path', path: dense }, () => {})).arch).toBe('qwen3');
  });
});
