/** Which model is loaded, and the ways to load another: the bundled one, a local file, a URL. */
import { useState } from 'react';
import { useStore } from '../store.ts';
import { cancelDownload, loadBundled, loadFiles, loadUrl } from '../actions/model-actions.ts';
import { formatBytes } from '../lib/memory-model.ts';
import { CachedModels } from './CachedModels.tsx';
import type { ModelState } from '../state/types.ts';

function statusText(m: ModelState): string {
  switch (m.status) {
    case 'none':
      return 'No model loaded';
    case 'downloading':
      return `Downloading ${m.label}…`;
    case 'loading':
      return `Loading ${m.label}…`;
    case 'ready':
      return `${m.summary!.name} · ${m.summary!.arch} · ${m.summary!.layers} layers · context ${m.summary!.contextLength.toLocaleString()} · ${formatBytes(m.summary!.fileBytes)}`;
    case 'failed':
      return `Could not load ${m.label ?? 'the model'}: ${m.message ?? ''}`;
  }
}

export function ModelBar() {
  const model = useStore((s) => s.model);
  const generating = useStore((s) => s.generating);
  const gpuReady = useStore((s) => s.status === 'ready');
  const [url, setUrl] = useState('');
  const busy = model.status === 'loading' || model.status === 'downloading' || generating || !gpuReady;
  const p = model.progress;
  return (
    <section className="panel model-bar" data-testid="model-bar">
      <div className="row">
        <strong className={`model-status ${model.status}`} data-testid="model-status" data-status={model.status}>
          {statusText(model)}
        </strong>
      </div>
      {p && (
        <div className="progress" data-testid="model-progress">
          <progress value={p.loaded} max={p.total || undefined} />
          <span>
            {p.phase === 'download' ? 'downloaded' : 'uploaded to GPU'} {formatBytes(p.loaded)}
            {p.total ? ` of ${formatBytes(p.total)}` : ''}
            {p.bytesPerSecond > 0 && ` · ${formatBytes(p.bytesPerSecond)}/s`}
            {Number.isFinite(p.secondsLeft) && p.secondsLeft > 0 && ` · ${Math.ceil(p.secondsLeft)} s left`}
          </span>
          {p.phase === 'download' && (
            <button data-testid="cancel-download" onClick={cancelDownload}>
              Cancel
            </button>
          )}
        </div>
      )}
      {model.verdict && (
        <p className={`verdict ${model.verdict.level}`} data-testid="fit-verdict" data-level={model.verdict.level}>
          {model.verdict.level === 'ok'
            ? 'Fits this device'
            : model.verdict.level === 'tight'
              ? 'May be tight on this device'
              : 'Probably too big for this device'}
          : {model.verdict.lines.join('; ')}
        </p>
      )}
      <div className="row loaders">
        <button disabled={busy} onClick={() => void loadBundled()}>
          Bundled model
        </button>
        <label className={`button ${busy ? 'disabled' : ''}`}>
          Open GGUF file(s)…
          <input
            data-testid="model-file-input"
            type="file"
            accept=".gguf"
            multiple
            hidden
            disabled={busy}
            onChange={(e) => {
              // one GGUF, or every part of a split set picked together
              const files = [...(e.target.files ?? [])];
              e.target.value = '';
              if (files.length > 0) void loadFiles(files);
            }}
          />
        </label>
        <form
          className="url-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (url.trim()) void loadUrl(url.trim());
          }}
        >
          <input data-testid="model-url-input" type="url" placeholder="https://…/model.gguf" value={url} onChange={(e) => setUrl(e.target.value)} />
          <button data-testid="model-url-load" disabled={busy || !url.trim()}>
            Load URL
          </button>
        </form>
        <span className="muted">or drop a .gguf file anywhere on the page</span>
      </div>
      <CachedModels />
    </section>
  );
}
