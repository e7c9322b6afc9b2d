/** The page's single engine Worker and the actions that drive it; results go into the store. */
import { createWorkerEngine, type WorkerEngine } from '../worker/client.ts';
import { useStore } from './store.ts';
import { isSparseScopeError } from '../errors.ts';

let engine: WorkerEngine | undefined;

export function getEngine(): WorkerEngine {
  engine ??= createWorkerEngine();
  return engine;
}

function report(e: unknown): void {
  const { showError } = useStore.getState();
  if (isSparseScopeError(e)) showError(e.code, e.message);
  else showError('internal', e instanceof Error ? e.message : String(e));
}

export async function startEngine(): Promise<void> {
  const { setGpu, setSelfTest } = useStore.getState();
  if (!('gpu' in navigator) || !navigator.gpu) {
    setGpu('no-webgpu');
    return;
  }
  try {
    const info = await getEngine().init((e) => useStore.getState().engineEvent(e));
    setGpu('ready', info);
    setSelfTest(await getEngine().selfTest());
  } catch (e) {
    setGpu(isSparseScopeError(e) && e.code === 'no-webgpu' ? 'no-webgpu' : 'failed');
    report(e);
  }
}

export async function restartEngine(): Promise<void> {
  const { setGpu, setSelfTest, clearError } = useStore.getState();
  clearError();
  setGpu('checking');
  try {
    const info = await getEngine().restart();
    setGpu('ready', info);
    setSelfTest(await getEngine().selfTest());
  } catch (e) {
    setGpu('failed');
    report(e);
  }
}
