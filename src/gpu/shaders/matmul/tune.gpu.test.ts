import { describe, expect, it } from 'vitest';
import { testGpu } from '../../testing/test-gpu.ts';
import { memoryStore, type TuningStore } from '../../tuning/store.ts';
import { MatvecTuner, formatTuningSummary, matvecCandidates, matvecClass } from './tune.ts';
import { preferredMatvecVariant } from './matvec.ts';

/** A store that counts its saves: a cached class must not be measured (nor saved) again. */
function countingStore(): TuningStore & { saves: number } {
  const m = memoryStore();
  const s = { where: 'memory', saves: 0, load: m.load, save: async (k: string, r: Parameters<TuningStore['save']>[1]) => void (s.saves++, await m.save(k, r)) };
  return s;
}

describe('matvec tuner on this adapter', () => {
  it('measures every candidate once per class, caches the choice and returns its variant', async () => {
    const { device, info } = await testGpu();
    const traits = { software: info.software === true, hasSubgroups: info.hasSubgroups };
    const store = countingStore();
    const tuner = await MatvecTuner.open(device, { store, adapterKey: 'test', ...traits, timing: { reps: 1, trials: 1 }, rounds: 2 });
    // before tuning: the default
    expect(tuner.variantFor('Q8_0', 256, 64)).toEqual(preferredMatvecVariant(traits, 256, 64));
    const r = await tuner.tune('Q8_0', 256, 64);
    const names = matvecCandidates(traits).map((c) => c.name);
    expect(Object.keys(r.ms).sort()).toEqual([...names].sort());
    for (const ms of Object.values(r.ms)) expect(ms).toBeGreaterThan(0);
    expect(names).toContain(r.choice);
    expect(r.kernelClass).toBe(matvecClass('Q8_0', 256, 64));
    expect(tuner.variantFor('Q8_0', 256, 64)).toEqual(matvecCandidates(traits).find((c) => c.name === r.choice)?.variant);
    // same class (another small matrix): cached, nothing measured or saved
    await tuner.tuneAll([{ type: 'Q8_0', k: 512, n: 32 }]);
    expect(store.saves).toBe(1);
    // a new tuner over the same store knows the choice without measuring
    const again = await MatvecTuner.open(device, { store, adapterKey: 'test', ...traits });
    expect(again.variantFor('Q8_0', 256, 64)).toEqual(tuner.variantFor('Q8_0', 256, 64));
    expect(again.summary().classes.map((c) => c.choice)).toEqual([r.choice]);
    expect(formatTuningSummary(again.summary())[0]).toContain(`tuned: ${r.choice}`);
    // another adapter key starts empty
    const other = await MatvecTuner.open(device, { store, adapterKey: 'other', ...traits });
    expect(other.summary().classes).toEqual([]);
  });
});
