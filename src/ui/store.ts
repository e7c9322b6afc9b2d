/**
 * The page's one store, made of slices (src/ui/state/): the GPU and the error banner, the model, the
 * chat, the views. Everything the engine reports — device status, load progress, generation — enters
 * through `engineEvent`, which hands the event to every slice; each slice reacts to the events it owns
 * (gpuEvent, modelEvent, chatEvent, viewEvent). Components read with selectors, and fast figures
 * (tokens/s) are read by transient subscriptions instead of re-rendering.
 */
import { create } from 'zustand';
import { createChatSlice, type ChatSlice } from './state/chat-slice.ts';
import { createViewSlice, type ViewSlice } from './state/view-slice.ts';
import { createGpuSlice, type GpuSlice } from './state/gpu-slice.ts';
import { createModelSlice, type ModelSlice } from './state/model-slice.ts';
import type { EngineEvent } from './state/engine-event.ts';

export type { GpuStatus } from './state/gpu-slice.ts';
export type { EngineEvent } from './state/engine-event.ts';

interface EngineEventSlice {
  engineEvent(e: EngineEvent): void;
}

export type Store = GpuSlice & ModelSlice & ChatSlice & ViewSlice & EngineEventSlice;

export const useStore = create<Store>()((set, get, api) => ({
  ...createGpuSlice(set, get, api),
  ...createModelSlice(set, get, api),
  ...createChatSlice(set, get, api),
  ...createViewSlice(set, get, api),
  engineEvent: (e) => {
    const s = get();
    s.gpuEvent(e);
    s.modelEvent(e);
    s.chatEvent(e);
    s.viewEvent(e);
  },
}));
