/**
 * `window.__sparsescope`: what e2e tests read and drive — the data each heatmap drew, the store, and the
 * device-loss trigger. Harmless in production: it only exposes what the page already shows.
 */
import { useStore } from '../store.ts';
import { getEngine } from '../engine.ts';

export interface HeatmapData {
  values: number[][];
  outlined?: number[][];
  rowLabels: string[];
  colLabels: string[];
  side?: number[];
}

interface Hook {
  simulateDeviceLoss(): Promise<void>;
  heatmaps: Record<string, HeatmapData>;
  state(): ReturnType<typeof useStore.getState>;
}

function hook(): Hook {
  const w = window as unknown as { __sparsescope?: Hook };
  w.__sparsescope ??= { simulateDeviceLoss: () => getEngine().simulateDeviceLoss(), heatmaps: {}, state: () => useStore.getState() };
  return w.__sparsescope;
}

export function installTestHook(): void {
  hook();
}

export function publishHeatmap(id: string, data: HeatmapData): void {
  hook().heatmaps[id] = data;
}
