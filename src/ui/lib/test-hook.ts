/**
 * `window.__sparsescope`: what e2e tests read and drive — the data each heatmap drew, the store, the
 * device-loss trigger, and the page's engine itself (the Worker's EngineApi: the browser bench loads and
 * generates through it, scripts/browser-bench.mjs). It exists in test builds only (src/worker/test-build.ts: the dev server and the
 * e2e harness's test build); in the production build users get, these functions do nothing and the hook
 * and its device-loss trigger are not in the bundle at all (e2e/npm-start.test.ts checks both).
 */
import { useStore } from '../store.ts';
import { getEngine } from '../engine.ts';
import type { WorkerEngine } from '../../worker/client.ts';
import { TEST_BUILD } from '../../worker/test-build.ts';

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
  engine(): WorkerEngine;
}

function hook(): Hook {
  const w = window as unknown as { __sparsescope?: Hook };
  w.__sparsescope ??= {
    simulateDeviceLoss: () => getEngine().simulateDeviceLoss!(),
    heatmaps: {},
    state: () => useStore.getState(),
    engine: () => getEngine(),
  };
  return w.__sparsescope;
}

export function installTestHook(): void {
  if (TEST_BUILD) hook();
}

export function publishHeatmap(id: string, data: HeatmapData): void {
  if (TEST_BUILD) hook().heatmaps[id] = data;
}
