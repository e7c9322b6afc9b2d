/**
 * The chat's thinking-mode switch (for formats that have one, ModelSummary.chatFormat.thinking), kept
 * in localStorage so it survives a reload. Its own small store: the sampling settings travel to the
 * engine as SamplingOptions, and this is not a sampling option.
 */
import { create } from 'zustand';

const KEY = 'sparsescope.thinking';

interface ThinkingSetting {
  thinking: boolean;
  setThinking(on: boolean): void;
}

function stored(): boolean {
  try {
    return globalThis.localStorage?.getItem(KEY) === '1';
  } catch {
    return false; // storage blocked (private mode, sandboxed frame): start off
  }
}

export const useThinkingSetting = create<ThinkingSetting>()((set) => ({
  thinking: stored(),
  setThinking(on) {
    try {
      globalThis.localStorage?.setItem(KEY, on ? '1' : '0');
    } catch {
      // not persisted; the switch still works for this page
    }
    set({ thinking: on });
  },
}));

/** Thinking mode for the next request: on only when the loaded model's format has one. */
export function thinkingFor(format: { thinking: boolean } | undefined): boolean | undefined {
  return format?.thinking ? useThinkingSetting.getState().thinking : undefined;
}
