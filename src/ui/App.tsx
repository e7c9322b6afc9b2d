import { useEffect, useState } from 'react';
import { useStore } from './store.ts';
import { startEngine, restartEngine, usingFakeEngine } from './engine.ts';
import { NoWebGpu } from './NoWebGpu.tsx';
import { AdapterPanel } from './AdapterPanel.tsx';
import { ModelBar } from './models/ModelBar.tsx';
import { ChatPanel } from './chat/ChatPanel.tsx';
import { ViewsPanel } from './views/ViewsPanel.tsx';
import { loadBundled, loadFiles, reloadLastModel } from './actions/model-actions.ts';
import { restoreConversations } from './actions/chat-actions.ts';
import { installTestHook } from './lib/test-hook.ts';
import { RemotePanel, RemoteViewsNotice } from './remote/RemotePanel.tsx';
import { useRemote } from './remote/remote-store.ts';
import { disconnectRemote } from './remote/remote-actions.ts';
import { readUrlState, syncUrlState } from './lib/url-state.ts';

let started = false;

/** Starts the engine and loads the bundled model once per page, even when StrictMode runs effects twice. */
function startOnce(): void {
  if (started) return;
  started = true;
  void restoreConversations();
  void startEngine().then((ok) => ok && loadBundled());
}

export function App() {
  const status = useStore((s) => s.status);
  const error = useStore((s) => s.error);
  const [dragging, setDragging] = useState(false);
  const remote = useRemote((s) => s.active);
  useEffect(() => {
    installTestHook();
    readUrlState();
    const unsync = syncUrlState();
    startOnce();
    return unsync;
  }, []);

  return (
    <div
      className={dragging ? 'app dragging' : 'app'}
      onDragOver={(e) => {
        if (!e.dataTransfer.types.includes('Files')) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => e.currentTarget === e.target && setDragging(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        // one GGUF, or every part of a split set at once
        const files = [...e.dataTransfer.files];
        if (files.length === 0) return;
        // A dropped file is a local model: leave the remote endpoint first.
        if (useRemote.getState().active) disconnectRemote();
        void loadFiles(files);
      }}
    >
      <header>
        <h1>SparseScope</h1>
        <p className="tagline">
          DeepSeek-style MLA, MoE and sparse attention, running in your browser on WebGPU.
          {usingFakeEngine() && <strong className="fake-flag"> FAKE ENGINE (test double) — outputs are not a model's.</strong>}
        </p>
      </header>
      {error && (
        <div className="error-banner" data-testid="error-banner" data-code={error.code} role="alert">
          <span>{error.message}</span>
          {status === 'lost' ? (
            <button data-testid="restart-engine" onClick={() => void restartEngine().then(reloadLastModel)}>
              Restart engine
            </button>
          ) : (
            <button onClick={() => useStore.getState().clearError()}>Dismiss</button>
          )}
        </div>
      )}
      {/* without WebGPU the models run on the CPU: the notice says what the GPU path needs, the page still works */}
      {status === 'no-webgpu' && <NoWebGpu />}
      <ModelBar />
      <RemotePanel />
      <main className="workspace">
        <ChatPanel />
        {remote ? <RemoteViewsNotice /> : <ViewsPanel />}
      </main>
      <AdapterPanel />
      {dragging && <div className="drop-hint">Drop a .gguf file (or every part of a split set) to load it</div>}
    </div>
  );
}
