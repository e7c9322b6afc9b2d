/**
 * A sample of the fuzzer's mutants through the WebGPU load path (run-gpu-case.ts: WebGpuModel.load and
 * one step), once per software adapter (scripts/gpu-suite.mjs). The 10,000-case CPU run (fuzz.test.ts)
 * covers the parser and checks; this proves that what they let through also uploads and runs on a GPU,
 * or is refused with a typed error there: no untyped error, hang, GPU validation error or lost device.
 */
import { describe, expect, it } from 'vitest';
import { testGpu } from '../../gpu/testing/test-gpu.ts';
import { fuzzBaseSpec } from './base-file.ts';
import { Mutator } from './mutate.ts';
import { runGpuCase } from './run-gpu-case.ts';

const SEED = 20261202;
const CASES = 200;
const CASE_TIMEOUT_MS = 60_000;

describe('GGUF fuzzer on the WebGPU load path', () => {
  it('the unmutated base file loads on the GPU and runs a step', async () => {
    expect(await runGpuCase(await testGpu(), new Mutator(fuzzBaseSpec()).base, CASE_TIMEOUT_MS)).toEqual({ outcome: 'ok' });
  });

  it(`${CASES} mutations: every one loads and steps or gives a typed error`, async () => {
    const ctx = await testGpu();
    const mutator = new Mutator(fuzzBaseSpec());
    const counts: Record<string, number> = {};
    const defects: string[] = [];
    for (let i = 0; i < CASES; i++) {
      const m = mutator.mutation(SEED, i);
      if (m.kind === 'template') continue; // a template runs on the CPU only (fuzz.test.ts); here it would only cost its time bound
      const r = await runGpuCase(ctx, m.bytes, CASE_TIMEOUT_MS);
      counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
      if (['untyped', 'hang', 'gpu-error'].includes(r.outcome)) defects.push(`case ${i} (${m.kind}: ${m.detail}): ${r.outcome} ${r.message ?? ''}`);
      if (ctx.isLost) break; // every later case would fail for this one's sake
    }
    console.log(
      `gpu fuzz (${process.env.SPARSESCOPE_ADAPTER ?? 'default adapter'}): outcomes ${JSON.stringify(Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1])))}`,
    );
    expect(defects).toEqual([]);
    // the sample must reach the GPU: some mutants load and step
    expect(counts.ok ?? 0).toBeGreaterThan(5);
  }, 600_000);
});
