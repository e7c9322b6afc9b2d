/**
 * The llama.cpp harness itself: the reference build runs one CPU variant of llama.cpp on every CPU
 * that has it (the same arithmetic, so the same bits, on every machine; on AMX CPUs it also keeps
 * ggml off the variant that aborts), and an abort inside llama.cpp is a failure that
 * names its cause, not a dead test worker. The bundled model is a Q8_0 `deepseek32` file: the case
 * that aborts on the AMX variant.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpuHasAmx, describeBuild, EXCLUDED_CPU_VARIANTS, PINNED_CPU_VARIANT } from './binaries.ts';
import { LlamaCpp, LlamaCppAborted } from './client.ts';

const BUNDLED = 'public/models/sparsescope-kjv-5m-q8_0.gguf';
const started: LlamaCpp[] = [];
async function start(exclude?: readonly string[]): Promise<LlamaCpp> {
  const ll = await LlamaCpp.start({ exclude });
  started.push(ll);
  return ll;
}
afterAll(async () => {
  await Promise.all(started.map((l) => l.close()));
});

async function greedyOnBundled(ll: LlamaCpp): Promise<number[]> {
  const m = await ll.loadModel(BUNDLED);
  return m.greedy(await m.tokenize('For God so loved the world'), 8);
}

let referenceTokens: number[] = [];

describe('llama.cpp reference build', () => {
  it(`holds the ${PINNED_CPU_VARIANT} variant only (where the CPU runs it, else all but AMX) and runs the bundled Q8_0 deepseek32 model`, async () => {
    const ll = await start();
    console.log(`CPU has AMX: ${cpuHasAmx()}; reference build variants: ${ll.build.variants.join(', ')}; loaded: ${ll.cpuVariant}; ${describeBuild(ll.build)}`);
    if (ll.build.pinned) {
      expect(ll.build.variants).toEqual([PINNED_CPU_VARIANT]);
      if (process.platform === 'linux') expect(ll.cpuVariant).toBe(PINNED_CPU_VARIANT);
    }
    for (const v of EXCLUDED_CPU_VARIANTS) expect(ll.build.variants).not.toContain(v);
    expect(ll.build.variants.length).toBeGreaterThan(0);
    if (process.platform === 'linux') expect(ll.cpuVariant).toMatch(/\w/); // read from /proc/self/maps
    expect(EXCLUDED_CPU_VARIANTS).not.toContain(ll.cpuVariant);
    referenceTokens = await greedyOnBundled(ll);
    expect(referenceTokens).toHaveLength(8);
  });

  it("with every variant (ggml's own choice): an abort on AMX is reported by name, elsewhere it runs", async () => {
    const ll = await start([]);
    const run = greedyOnBundled(ll);
    if (ll.cpuVariant && EXCLUDED_CPU_VARIANTS.includes(ll.cpuVariant)) {
      // this CPU has AMX and ggml picked its variant: the reference build is what keeps the suite alive
      const err = await run.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LlamaCppAborted);
      expect((err as Error).message).toMatch(/SIGABRT during greedy .*GGML_ASSERT\(\*cur_backend_id != -1\)/);
      expect((err as Error).message).toContain(`variant ${ll.cpuVariant}`);
      console.log(`ggml's own choice here is ${ll.cpuVariant}: llama.cpp aborted in the scheduler and the client reported it by name`);
    } else {
      const tokens = await run;
      expect(tokens).toHaveLength(8);
      // the same variant computes the same bits; another one sums in another order, and may part at a near-tie
      if (ll.cpuVariant === PINNED_CPU_VARIANT) expect(tokens).toEqual(referenceTokens);
      const same = JSON.stringify(tokens) === JSON.stringify(referenceTokens);
      console.log(`ggml's own choice here is ${ll.cpuVariant}: ${same ? 'the same tokens as' : 'other tokens than'} the reference build`);
    }
  });

  it('a process that dies mid-call rejects the pending calls with the cause; later calls too', async () => {
    const ll = await start();
    const m = await ll.loadModel(BUNDLED);
    // sent just before the abort: answered first or rejected with it, depending on the child's timing
    const pending = m.tokenize('x'.repeat(10)).then(
      () => 'answered',
      (e: unknown) => e,
    );
    const err = await ll.call('abort', { message: 'GGML_ABORT(simulated for the test)' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LlamaCppAborted);
    expect((err as Error).message).toMatch(/killed by SIGABRT during (tokenize, )?abort .*: GGML_ABORT\(simulated for the test\)/);
    const first = await pending;
    if (first !== 'answered') expect(first).toBe(err);
    await expect(m.greedy([1, 2], 2)).rejects.toBeInstanceOf(LlamaCppAborted);
  });
});
