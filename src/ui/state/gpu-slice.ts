/** The GPU (or CPU) the engine runs on, its self-test, and the error banner. */
import type { StateCreator } from 'zustand';
import type { EngineInfo, SelfTestResult } from '../../api/protocol.ts';
import type { Store } from '../store.ts';
import type { EngineEvent } from './engine-event.ts';

export type GpuStatus = 'checking' | 'no-webgpu' | 'ready' | 'lost' | 'failed';

export interface GpuSlice {
  status: GpuStatus;
  /** The adapter, or without one the CPU and why there is no GPU (status 'no-webgpu'). */
  info?: EngineInfo;
  selfTest?: SelfTestResult;
  error?: { code: string; message: string };
  setGpu(status: GpuStatus, info?: EngineInfo): void;
  setSelfTest(r: SelfTestResult): void;
  showError(code: string, message: string): void;
  clearError(): void;
  /** The device's events: lost (status and banner), an uncaptured GPU error, a broken chat template (banner). */
  gpuEvent(e: EngineEvent): void;
}

export const createGpuSlice: StateCreator<Store, [], [], GpuSlice> = (set) => ({
  status: 'checking',
  setGpu: (status, info) => set({ status, info }),
  setSelfTest: (selfTest) => set({ selfTest }),
  showError: (code, message) => set({ error: { code, message } }),
  clearError: () => set({ error: undefined }),
  gpuEvent: (e) => {
    if (e.kind === 'device-lost') set({ status: 'lost', error: { code: 'device-lost', message: e.message } });
    else if (e.kind === 'gpu-error') set({ error: { code: 'gpu-error', message: e.message } });
    // a broken template does not stop the chat (the fallback format answers), but the banner says so
    else if (e.kind === 'prefill' && e.templateError) set({ error: e.templateError });
  },
});
