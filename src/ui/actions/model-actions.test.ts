/**
 * loadModel against a stub engine whose loads we finish by hand. Overlapping loads (a second load asked
 * for while the first is still running; React's StrictMode starts the page twice in development): the
 * store must end with the newest load's model, and a trace made as soon as that model is ready must
 * survive the older load finishing late. A failed load: the engine still holds its model, so the page
 * must show that one as ready, not "failed".
 */
import { describe, expect, it, vi } from 'vitest';
import type { LoadEvent, ModelSummary } from '../../api/protocol.ts';

type Pending = { name: string; resolve(s: ModelSummary): void; reject(e: Error): void };
const pending: Pending[] = [];

vi.mock('../engine.ts', () => ({
  getEngine: () => ({
    // As the engine does: the 'ready' event first, then the call returns.
    load: (source: { name: string }, onEvent: (e: LoadEvent) => void) =>
      new Promise<ModelSummary>((resolve, reject) =>
        pending.push({
          name: source.name,
          resolve: (s) => {
            onEvent({ kind: 'ready', model: s });
            resolve(s);
          },
          reject,
        }),
      ),
  }),
  report: vi.fn(),
}));

const { loadModel } = await import('./model-actions.ts');
const { useStore } = await import('../store.ts');

const summary = (name: string): ModelSummary => ({ name, arch: 'deepseek32', fileBytes: 1, layers: 1, contextLength: 64, vocabSize: 8, backend: 'webgpu' });

describe('loadModel', () => {
  it('keeps the newest load and a trace made after it, whichever load finishes last', async () => {
    const first = loadModel({ kind: 'url', url: 'a', name: 'a' }, 'a');
    const second = loadModel({ kind: 'url', url: 'b', name: 'b' }, 'b');
    expect(pending.map((p) => p.name)).toEqual(['a', 'b']);

    pending[1].resolve(summary('b'));
    expect(await second).toBe(true);
    expect(useStore.getState().model.summary?.name).toBe('b');
    const trace = { source: 'classroom' as const, tokens: [], rows: [], k: 4 };
    useStore.getState().setAnalysis(trace);

    pending[0].resolve(summary('a'));
    expect(await first).toBe(false);
    expect(useStore.getState().model.status).toBe('ready');
    expect(useStore.getState().model.summary?.name).toBe('b');
    expect(useStore.getState().analysis).toBe(trace);
  });

  it('after a failed load shows the model the engine still holds, with its trace', async () => {
    expect(useStore.getState().model.summary?.name).toBe('b');
    const trace = useStore.getState().analysis;
    const broken = loadModel({ kind: 'url', url: 'c', name: 'broken.gguf' }, 'broken.gguf');
    expect(useStore.getState().model.status).toBe('loading');
    pending.at(-1)!.reject(new Error('broken.gguf is truncated'));
    expect(await broken).toBe(false);
    expect(useStore.getState().model.status).toBe('ready');
    expect(useStore.getState().model.summary?.name).toBe('b');
    expect(useStore.getState().analysis).toBe(trace);
  });
});
