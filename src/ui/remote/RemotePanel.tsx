/**
 * "Remote endpoint": an OpenAI-compatible server (sparsescope serve, SGLang, vLLM, llama.cpp's server,
 * DeepSeek's API) as the chat's model. Base URL, optional API key (kept in memory unless "remember"),
 * model id (the server's list fills the suggestions). While connected the chat streams from it.
 */
import { useStore } from '../store.ts';
import { connectRemote, disconnectRemote, listRemoteModels } from './remote-actions.ts';
import { useRemote } from './remote-store.ts';
import type { RemoteEndpoint } from './remote-engine.ts';
import { SideBySide } from './SideBySide.tsx';

export function RemotePanel() {
  const { active, form, remember, connecting, listed } = useRemote();
  const generating = useStore((s) => s.generating);
  const patch = (p: Partial<RemoteEndpoint>) => useRemote.setState({ form: { ...form, ...p } });
  if (active) {
    return (
      <section className="panel remote-panel" data-testid="remote-panel" data-connected="true">
        <div className="row">
          <span>
            Chatting with <strong data-testid="remote-active-model">{active.model}</strong> at <code>{active.baseUrl}</code> (remote endpoint)
          </span>
          <button data-testid="remote-disconnect" disabled={generating} onClick={() => disconnectRemote()}>
            Use the local model
          </button>
        </div>
      </section>
    );
  }
  return (
    <details className="panel remote-panel" data-testid="remote-panel" data-connected="false">
      <summary>Remote endpoint (OpenAI-compatible server)</summary>
      <form
        className="row remote-form"
        onSubmit={(e) => {
          e.preventDefault();
          void connectRemote();
        }}
      >
        <label>
          Base URL{' '}
          <input
            data-testid="remote-url"
            type="url"
            required
            value={form.baseUrl}
            placeholder="http://127.0.0.1:8080/v1"
            onChange={(e) => patch({ baseUrl: e.target.value })}
          />
        </label>
        <label>
          API key{' '}
          <input
            data-testid="remote-key"
            type="password"
            autoComplete="off"
            value={form.apiKey ?? ''}
            placeholder="optional"
            onChange={(e) => patch({ apiKey: e.target.value })}
          />
        </label>
        <label>
          Model{' '}
          <input
            data-testid="remote-model"
            list="remote-models"
            required
            value={form.model}
            placeholder="model id"
            onChange={(e) => patch({ model: e.target.value })}
          />
          <datalist id="remote-models">
            {listed.map((id) => (
              <option key={id} value={id} />
            ))}
          </datalist>
        </label>
        <button type="button" data-testid="remote-list" onClick={() => void listRemoteModels()}>
          List models
        </button>
        <label title="Stores the URL, model and API key in this browser's localStorage">
          <input data-testid="remote-remember" type="checkbox" checked={remember} onChange={(e) => useRemote.setState({ remember: e.target.checked })} />{' '}
          remember (key included)
        </label>
        <button type="submit" data-testid="remote-connect" disabled={connecting || generating}>
          {connecting ? 'Connecting…' : 'Connect'}
        </button>
      </form>
    </details>
  );
}

/** In place of the views while remote: they read the model's internals, which needs its weights here; the side-by-side view instead. */
export function RemoteViewsNotice() {
  const active = useRemote((s) => s.active);
  return (
    <section className="panel views" data-testid="remote-views-notice">
      <p>
        The Indexer, Experts, Memory, Speed and Classroom views read the model’s internals (indexer scores, router choices, caches, per-layer timings), which
        needs its weights in this page. {active?.model} runs on a remote server, which only sends text: use the local model to see them.
      </p>
      <SideBySide />
    </section>
  );
}
