/** What the views show: the traced analysis, the selected view and layer, hover, and the classroom. */
import type { StateCreator } from 'zustand';
import type { Analysis, Classroom, ViewName } from './types.ts';
import type { Store } from '../store.ts';
import type { ProfileResult } from '../../api/protocol.ts';
import type { EngineEvent } from './engine-event.ts';

export interface ViewSlice {
  view: ViewName;
  layer: number;
  hover?: number;
  analysis?: Analysis;
  classroom: Classroom;
  /** Speed view: the last per-layer timing of sparse (classroom k) and dense decode steps. */
  speed?: { sparse: ProfileResult; dense: ProfileResult };
  setView(v: ViewName): void;
  setLayer(l: number): void;
  setHover(position: number | undefined): void;
  setAnalysis(a: Analysis | undefined): void;
  patchClassroom(p: Partial<Classroom>): void;
  setSpeed(s: ViewSlice['speed']): void;
  /** A chat generation's trace: the prompt's tokens at prefill, then each generated token and its trace row. */
  viewEvent(e: EngineEvent): void;
}

export const DEFAULT_PROMPT = 'In the beginning the river went out of the garden to water the land, and the light of the stars';

export const createViewSlice: StateCreator<Store, [], [], ViewSlice> = (set, get) => ({
  view: 'indexer',
  layer: 0,
  classroom: { prompt: DEFAULT_PROMPT, k: 8, dense: false, appended: [], busy: false },
  setView: (view) => set({ view }),
  setLayer: (layer) => set({ layer }),
  setHover: (hover) => set({ hover }),
  setAnalysis: (analysis) => set({ analysis }),
  patchClassroom: (p) => set((s) => ({ classroom: { ...s.classroom, ...p } })),
  setSpeed: (speed) => set({ speed }),
  viewEvent: (e) => {
    if (e.kind === 'prefill') set({ analysis: { source: 'chat', tokens: e.tokens ?? [], rows: [] } });
    else if (e.kind === 'token') {
      const a = get().analysis;
      if (a?.source === 'chat') set({ analysis: { ...a, tokens: [...a.tokens, { id: e.id, text: e.text }], rows: e.trace ? [...a.rows, e.trace] : a.rows } });
    }
  },
});
