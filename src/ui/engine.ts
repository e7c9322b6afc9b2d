/**
 * The page's engine and the actions that start and restart it; results go into the store.
 * `?engine=fake` swaps in the FakeEngine test double (src/ui/dev) for model work; a connected remote
 * endpoint (src/ui/remote) takes the chat's place through selectRemoteEngine. Everything calls getEngine().
 */
import { createWorkerEngine, type WorkerEngine } from '../worker/client.ts';
import { useStore } from './store.ts';
import { isSparseScopeError } from '../errors.ts';

let engine: WorkerEngine | undefined;
/** An OpenAI-compatible server the chat streams from instead (same generate/abort surface). */
let remote: WorkerEngine | undefined;

export const usingFakeEngine = () => new URLSearchParams(location.search).get('engine') === 'fake';

export function getEngine(): WorkerEngine {
  if (remote) return remote;
  engine ??= createWorkerEngine();
  return engine;
}

/** The local engine, whichever engine getEngine() gives now (the side-by-side view runs both). */
export function getLocalEngine(): WorkerEngine | undefined {
  return engine;
}

/** From now on getEngine() is the remote endpoint's engine; the local one keeps its model. */
export function selectRemoteEngine(e: WorkerEngine): void {
  remote?.terminate();
  remote = e;
}

/** Back to the local engine. */
export function selectLocalEngine(): void {
  remote?.terminate();
  remote = undefined;
}

async function createEngine(): Promise<WorkerEngine> {
  if (!engine && usingFakeEngine()) {
    // Loaded on demand so the test double never ships in the main chunk of a normal visit.
    const { FakeEngine } = await import('./dev/fake-engine.ts');
    engine = new FakeEngine(createWorkerEngine());
  }
  return getEngine();
}

/** Puts any thrown error in the banner; SparseScopeError codes survive the worker boundary. */
export function report(e: unknown): void {
  const { showError } = useStore.getState();
  if (isSparseScopeError(e)) showError(e.code, e.message);
  else showError('internal', e instanceof Error ? e.message : String(e));
}

/**
 * Starts the engine. Without WebGPU (or without an adapter) the engine still starts, on the CPU: the
 * status says 'no-webgpu' and the page explains what the GPU path needs, but models load and chat.
 */
export async function startEngine(): Promise<boolean> {
  const { setGpu, setSelfTest } = useStore.getState();
  try {
    const eng = await createEngine();
    const pageHasGpu = 'gpu' in navigator && !!navigator.gpu;
    const info = await eng.init((e) => useStore.getState().engineEvent(e), { gpu: pageHasGpu });
    if (info.gpuUnavailable) {
      setGpu('no-webgpu', info);
      return true;
    }
    setGpu('ready', info);
    setSelfTest(await eng.selfTest());
    return true;
  } catch (e) {
    setGpu(isSparseScopeError(e) && e.code === 'no-webgpu' ? 'no-webgpu' : 'failed');
    report(e);
    return false;
  }
}

export async function restartEngine(): Promise<void> {
  const { setGpu, setSelfTest, clearError } = useStore.getState();
  clearError();
  setGpu('checking');
  try {
    const info = await getEngine().restart();
    setGpu(info.gpuUnavailable ? 'no-webgpu' : 'ready', info);
    if (!info.gpuUnavailable) setSelfTest(await getEngine().selfTest());
  } catch (e) {
    setGpu('failed');
    report(e);
  }
}
