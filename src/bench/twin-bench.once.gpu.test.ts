/**
 * Smoke test of `npm run bench:twins` on one small twin (Youtu-LLM-2B's shapes cut to 1 layer and a 1,024-token
 * vocabulary), as its own process on the GPU suite's adapter: every figure finite and positive, the derived
 * ones consistent with what they are derived from, the bytes a token reads checked against the file's own
 * tensor table. No timing thresholds (the bench prints speeds, it never asserts them).
 */
import { afterAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gguf } from '@huggingface/gguf';
import type { TwinBenchResult } from './twin-bench.ts';

const dir = mkdtempSync(join(tmpdir(), 'sparsescope-twin-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', '--import', './scripts/wgsl-register.mjs', 'src/bench/twin-main.ts', ...args], {
    env: process.env,
    maxBuffer: 16 * 2 ** 20,
    timeout: 200_000,
  });

it('npm run bench:twins on a small twin: every figure positive, the bytes per token those of the file', async () => {
  const out = join(dir, 'twins.json');
  const { stdout } = await run(['--twin', 'youtu-llm-2b:Q4_K_M:layers=1:vocab=1024', '--prompt', '8', '--decode', '3', '--cache', dir, '--out', out]);
  expect(stdout).toContain('| youtu-llm-2b Q4_K_M (layers=1, vocab=1024) |');
  const r = JSON.parse(readFileSync(out, 'utf8')) as TwinBenchResult;
  expect(r.runs.length).toBe(1);
  const x = r.runs[0];
  // the yardstick is the best copy of the run, and every ratio is taken against it
  expect(r.copy.gbPerS).toBe(Math.max(...r.copyRuns));
  expect(x.decodeVsCopy).toBeCloseTo(x.decodeGbPerS / r.copy.gbPerS, 9);
  expect(x.decodeGbPerS).toBeCloseTo((x.bytesPerToken * x.decodeTokPerS) / 1e9, 9);
  // a dense twin with a tied head reads every tensor, token_embd once more for the lookup's row, plus its
  // cache: counted here from the file's tensor table by @huggingface/gguf (not the engine's reader), the
  // sizes from the data offsets
  const { tensorInfos, tensorDataOffset } = await gguf(join(dir, 'twin-youtu-llm-2b-Q4_K_M-layers1-vocab1024.gguf'), { allowLocalFile: true });
  const offsets = tensorInfos.map((t) => Number(t.offset)).sort((a, b) => a - b);
  const dataBytes = x.fileBytes - Number(tensorDataOffset);
  const sizeOf = (name: string) => {
    const o = Number(tensorInfos.find((t) => t.name === name)!.offset);
    const next = offsets.find((v) => v > o);
    return (next ?? dataBytes) - o; // up to the next tensor (alignment padding included, at most 31 bytes each)
  };
  expect(tensorInfos.some((t) => t.name === 'output.weight')).toBe(false);
  const expected = dataBytes + sizeOf('token_embd.weight') / 1024;
  expect(Math.abs(x.weights.active - expected)).toBeLessThanOrEqual(32 * tensorInfos.length);
  expect(x.bytesPerToken).toBeGreaterThan(x.weights.active);
  expect(x.tuning).toEqual(r.adapter.software ? [] : expect.any(Array));
  for (const k of ['passes', 'submits', 'maps', 'dispatches'] as const) expect(x.perToken[k]).toBeGreaterThan(0);
  const figures = { copy: r.copy.gbPerS, ...Object.fromEntries(Object.entries(x).filter(([, v]) => typeof v === 'number')) };
  expect(Object.entries(figures).filter(([, v]) => !(Number.isFinite(v) && (v as number) > 0))).toEqual([]);
}, 240_000);

it('npm run bench:twins names what is wrong with a twin spec', async () => {
  for (const [spec, message] of [
    ['no-such-model:Q4_K_M', 'unknown twin "no-such-model"'],
    ['youtu-llm-2b:Q3_K_S', 'mix "Q3_K_S"; supported: Q4_K_M, Q2_K'],
    ['youtu-llm-2b:Q4_K_M:depth=2', '"depth" (layers, experts or vocab)'],
  ]) {
    const failed = await run(['--twin', spec, '--out', join(dir, 'bad.json')]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain(message);
  }
}, 60_000);
