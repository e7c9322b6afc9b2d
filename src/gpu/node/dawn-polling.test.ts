import { afterEach, describe, expect, it } from 'vitest';
import { dawnPolling, dawnPollingSleeps, setDawnPolling } from './dawn-polling.ts';

// Chains n setImmediate callbacks, each queued from the previous one, and resolves after the last.
function chain(n: number, wrap: (f: () => void) => () => void): Promise<number> {
  return new Promise((resolve) => {
    let left = n;
    const t0 = performance.now();
    const step = wrap(() => {
      if (--left === 0) resolve(performance.now() - t0);
      else setImmediate(step);
    });
    setImmediate(step);
  });
}

describe('polite Dawn polling touches only Dawn', () => {
  afterEach(() => setDawnPolling('busy'));

  it('lets JavaScript callbacks through, also native-looking (bound) ones, in a chain longer than the spin', async () => {
    setDawnPolling('polite');
    expect(dawnPolling()).toBe('polite');
    const before = dawnPollingSleeps();
    // ~thousands of ticks over well past the 3 ms spin: a Dawn chain this long would have slept
    const plain = await chain(20000, (f) => f);
    const bound = await chain(20000, (f) => f.bind(null));
    expect(Function.prototype.toString.call((() => 0).bind(null))).toContain('[native code]');
    expect(dawnPollingSleeps()).toBe(before);
    expect(plain + bound).toBeGreaterThan(0);
  });

  it('keeps the global setImmediate usable with its promisify form after installing', async () => {
    setDawnPolling('polite');
    const { setImmediate: promised } = await import('node:timers/promises');
    expect(await promised('v')).toBe('v');
    await new Promise<void>((resolve) => setImmediate(resolve));
  });
});
