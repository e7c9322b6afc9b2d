/**
 * The one store, in slices. Engine events enter through `engineEvent`; components read with selectors.
 */
import { create } from 'zustand';
import type { GpuInfo } from '../gpu/device.ts';
import type { EngineStatusEvent, SelfTestResult } from '../worker/protocol.ts';

export type GpuStatus = 'checking' | 'no-webgpu' | 'ready' | 'lost' | 'failed';

interface GpuSlice {
  status: GpuStatus;
  info?: GpuInfo;
  selfTest?: SelfTestResult;
  setGpu(status: GpuStatus, info?: GpuInfo): void;
  setSelfTest(r: SelfTestResult): void;
}

interface ErrorSlice {
  error?: { code: string; message: string };
  showError(code: string, message: string): void;
  clearError(): void;
}

interface EngineEventSlice {
  engineEvent(e: EngineStatusEvent): void;
}

export type Store = GpuSlice & ErrorSlice & EngineEventSlice;

export const useStore = create<Store>()((set) => ({
  status: 'checking',
  setGpu: (status, info) => set({ status, info }),
  setSelfTest: (selfTest) => set({ selfTest }),
  showError: (code, message) => set({ error: { code, message } }),
  clearError: () => set({ error: undefined }),
  engineEvent: (e) => {
    if (e.kind === 'device-lost') set({ status: 'lost', error: { code: 'device-lost', message: e.message } });
    else set({ error: { code: 'gpu-error', message: e.message } });
  },
}));
