/** The model: loading (header, fit verdict, progress with its rate), ready, failed. */
import type { StateCreator } from 'zustand';
import type { Store } from '../store.ts';
import type { ModelState } from './types.ts';
import type { EngineEvent } from './engine-event.ts';
import { fitVerdict } from '../models/verdict.ts';

export interface ModelSlice {
  model: ModelState;
  setModel(patch: Partial<ModelState>, replace?: boolean): void;
  /** A load's header and progress; a lost device fails the model. ('ready' is the load call's: model-actions.ts.) */
  modelEvent(e: EngineEvent): void;
}

export const createModelSlice: StateCreator<Store, [], [], ModelSlice> = (set, get) => ({
  model: { status: 'none' },
  setModel: (patch, replace) => set((s) => ({ model: replace ? { status: 'none', ...patch } : { ...s.model, ...patch } })),
  modelEvent: (e) => {
    const s = get();
    switch (e.kind) {
      case 'device-lost':
        set({
          model: { ...s.model, status: s.model.status === 'none' ? 'none' : 'failed', message: 'the GPU device was lost; restart the engine to load it again' },
        });
        return;
      case 'header':
        set({ model: { ...s.model, header: e, verdict: fitVerdict(e, { limits: s.info?.limits, deviceMemoryGiB: deviceMemory() }) } });
        return;
      case 'progress': {
        // the rate is over this load's upload so far: its first progress event starts the clock
        const p = s.model.progress;
        const now = performance.now();
        const startedAt = p?.phase === 'load' && p.startedAt !== undefined ? p.startedAt : now;
        const rate = e.loadedBytes / Math.max(1e-3, (now - startedAt) / 1000);
        set({
          model: {
            ...s.model,
            status: 'loading',
            progress: {
              phase: 'load',
              loaded: e.loadedBytes,
              total: e.totalBytes,
              bytesPerSecond: rate,
              secondsLeft: (e.totalBytes - e.loadedBytes) / Math.max(rate, 1),
              startedAt,
            },
          },
        });
        return;
      }
    }
  },
});

function deviceMemory(): number | undefined {
  return (navigator as Navigator & { deviceMemory?: number }).deviceMemory;
}
