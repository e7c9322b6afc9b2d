import { useEffect } from 'react';
import { useStore } from './store.ts';
import { startEngine, restartEngine, getEngine } from './engine.ts';
import { NoWebGpu } from './NoWebGpu.tsx';
import { AdapterPanel } from './AdapterPanel.tsx';

export function App() {
  const status = useStore((s) => s.status);
  const error = useStore((s) => s.error);
  useEffect(() => {
    void startEngine();
    // Test hook for the e2e suite: lose the device on purpose to exercise the recovery path.
    (window as unknown as { __sparsescope: object }).__sparsescope = { simulateDeviceLoss: () => getEngine().simulateDeviceLoss() };
  }, []);

  return (
    <div className="app">
      <header>
        <h1>SparseScope</h1>
        <p className="tagline">DeepSeek-style MLA, MoE and sparse attention, running in your browser on WebGPU.</p>
      </header>
      {error && (
        <div className="error-banner" data-testid="error-banner" role="alert">
          <span>{error.message}</span>
          {status === 'lost' ? (
            <button data-testid="restart-engine" onClick={() => void restartEngine()}>
              Restart engine
            </button>
          ) : (
            <button onClick={() => useStore.getState().clearError()}>Dismiss</button>
          )}
        </div>
      )}
      {status === 'no-webgpu' ? <NoWebGpu /> : <AdapterPanel />}
    </div>
  );
}
