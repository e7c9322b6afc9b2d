/**
 * The one store, in slices (GPU, error, model, chat, views). Every engine event — GPU status, load
 * progress, generation — enters through `engineEvent`; components read with selectors, and fast
 * figures (tokens/s) are read by transient subscriptions instead of re-rendering.
 */
import { create } from 'zustand';
import type { EngineInfo, EngineStatusEvent, GenerateEvent, LoadEvent, SelfTestResult } from '../api/protocol.ts';
import { createChatSlice, type ChatSlice } from './state/chat-slice.ts';
import { createViewSlice, type ViewSlice } from './state/view-slice.ts';
import type { ModelState } from './state/types.ts';
import { fitVerdict } from './models/verdict.ts';

export type GpuStatus = 'checking' | 'no-webgpu' | 'ready' | 'lost' | 'failed';

interface GpuSlice {
  status: GpuStatus;
  /** The adapter, or without one the CPU and why there is no GPU (status 'no-webgpu'). */
  info?: EngineInfo;
  selfTest?: SelfTestResult;
  setGpu(status: GpuStatus, info?: EngineInfo): void;
  setSelfTest(r: SelfTestResult): void;
}

interface ErrorSlice {
  error?: { code: string; message: string };
  showError(code: string, message: string): void;
  clearError(): void;
}

interface ModelSlice {
  model: ModelState;
  setModel(patch: Partial<ModelState>, replace?: boolean): void;
}

export type EngineEvent = EngineStatusEvent | LoadEvent | GenerateEvent;

interface EngineEventSlice {
  engineEvent(e: EngineEvent): void;
}

export type Store = GpuSlice & ErrorSlice & ModelSlice & ChatSlice & ViewSlice & EngineEventSlice;

export const useStore = create<Store>()((set, get, api) => ({
  ...createChatSlice(set, get, api),
  ...createViewSlice(set, get, api),
  status: 'checking',
  setGpu: (status, info) => set({ status, info }),
  setSelfTest: (selfTest) => set({ selfTest }),
  showError: (code, message) => set({ error: { code, message } }),
  clearError: () => set({ error: undefined }),
  model: { status: 'none' },
  setModel: (patch, replace) => set((s) => ({ model: replace ? { status: 'none', ...patch } : { ...s.model, ...patch } })),
  engineEvent: (e) => {
    const s = get();
    switch (e.kind) {
      case 'device-lost':
        set({
          status: 'lost',
          error: { code: 'device-lost', message: e.message },
          model: { ...s.model, status: s.model.status === 'none' ? 'none' : 'failed', message: 'the GPU device was lost; restart the engine to load it again' },
        });
        return;
      case 'gpu-error':
        set({ error: { code: 'gpu-error', message: e.message } });
        return;
      case 'header':
        set({ model: { ...s.model, header: e, verdict: fitVerdict(e, { limits: s.info?.limits, deviceMemoryGiB: deviceMemory() }) } });
        return;
      case 'progress': {
        const p = s.model.progress;
        const now = performance.now();
        const started = p?.phase === 'load' ? loadStartedAt : (loadStartedAt = now);
        const rate = e.loadedBytes / Math.max(1e-3, (now - started) / 1000);
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
            },
          },
        });
        return;
      }
      case 'ready':
        // loadModel makes the model ready when its load call returns, and only for the newest load: an
        // older load's event must not show its model (actions/model-actions.ts).
        return;
      case 'prefill':
        // a broken template does not stop the chat (the fallback format answers), but the banner says so
        set({ analysis: { source: 'chat', tokens: e.tokens ?? [], rows: [] }, ...(e.templateError ? { error: e.templateError } : {}) });
        return;
      case 'token': {
        const now = performance.now();
        const m = s.metrics;
        set({ metrics: { ...m, tokens: m.tokens + 1, firstTokenAt: m.firstTokenAt || now, lastAt: now } });
        const last = s.conversation.messages.at(-1);
        if (last?.role === 'assistant') {
          s.patchLastMessage({ content: last.content + e.text, tokens: [...(last.tokens ?? []), { text: e.text, position: e.trace?.position }] });
        }
        const a = get().analysis;
        if (a?.source === 'chat') {
          set({ analysis: { ...a, tokens: [...a.tokens, { id: e.id, text: e.text }], rows: e.trace ? [...a.rows, e.trace] : a.rows } });
        }
        return;
      }
      case 'done':
        s.patchLastMessage({
          status: e.reason === 'aborted' ? 'stopped' : 'done',
          stats: { tokens: e.tokens, tokensPerSecond: e.tokensPerSecond, timeToFirstTokenMs: e.timeToFirstTokenMs },
        });
        return;
    }
  },
}));

let loadStartedAt = 0;

function deviceMemory(): number | undefined {
  return (navigator as Navigator & { deviceMemory?: number }).deviceMemory;
}
