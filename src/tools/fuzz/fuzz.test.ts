/**
 * The fuzzer in the suite: 10,000 deterministic header-aware mutations of a small deepseek32 file
 * (mutate.ts), each through the whole CPU load path (run-case.ts) in child processes with a
 * per-case watchdog and a V8 heap bound (driver.ts). Every case must end in 'ok' or a typed
 * SparseScopeError: a crash, hang or untyped error fails the test and names the case to replay
 * (`new Mutator(fuzzBaseSpec()).mutation(seed, i)`).
 */
import { describe, expect, it } from 'vitest';
import { fuzzBaseSpec } from './base-file.ts';
import { runFuzz } from './driver.ts';
import { Mutator, REGRESSIONS } from './mutate.ts';
import { runCase } from './run-case.ts';

describe('GGUF fuzzer', () => {
  it('the unmutated base file loads and runs a step (the fuzzer mutates a working file)', async () => {
    expect(await runCase(new Mutator(fuzzBaseSpec()).base)).toEqual({ outcome: 'ok' });
  });

  for (const [name, patch] of REGRESSIONS) {
    it(`regression: ${name} gives a typed error or a clean load`, async () => {
      const m = new Mutator(fuzzBaseSpec()).rebuilt('regression', name, patch);
      const r = await runCase(m.bytes);
      expect(r.outcome, r.message).not.toBe('untyped');
      if (name.startsWith('block_count')) expect(r.outcome).toBe('bad-metadata');
    });
  }

  it('10,000 mutations: 0 crashes, 0 hangs, 0 untyped errors, heap ≤ 512 MB per process', async () => {
    const r = await runFuzz({ seed: 20261201, cases: 10_000, caseTimeoutMs: 15_000, maxOldSpaceMb: 512 });
    const total = Object.values(r.counts).reduce((a, b) => a + b, 0);
    console.log(`fuzz: ${total} cases, outcomes ${JSON.stringify(Object.fromEntries(Object.entries(r.counts).sort((a, b) => b[1] - a[1])))}`);
    expect(r.defects).toEqual([]);
    expect(total).toBe(10_000);
    // the mutations must reach past the header: some load fine, many distinct typed errors
    expect(r.counts.ok).toBeGreaterThan(100);
    expect(Object.keys(r.counts).length).toBeGreaterThan(8);
  }, 600_000);
});
