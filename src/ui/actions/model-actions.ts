/** Loading models: the bundled one by URL, a local file as a Blob, a remote URL downloaded into the cache first. */
import { SparseScopeError, isSparseScopeError } from '../../errors.ts';
import type { ModelSource } from '../../api/protocol.ts';
import { getEngine, report } from '../engine.ts';
import { useStore } from '../store.ts';
import type { ModelState } from '../state/types.ts';
import { fitVerdict } from '../models/verdict.ts';
import { cachedBlobs, downloadSetToCache, freeStorage, nameOf } from '../models/model-cache.ts';
import { useBackendSetting } from '../state/backend-setting.ts';

/** The model shipped in public/models; `?model=<url>` picks another file to open on start. */
export const BUNDLED_MODEL_URL = 'models/sparsescope-kjv-5m-q8_0.gguf';

let download: AbortController | undefined;
/** Numbers the loads; only the newest one's outcome reaches the store. */
let loadSeq = 0;
/** The last source that loaded, so a restarted engine (after a lost device) can load it again. */
let lastSource: { source: ModelSource; label: string } | undefined;

const deviceMemory = () => (navigator as Navigator & { deviceMemory?: number }).deviceMemory;

export function startupModelUrl(): string {
  return new URLSearchParams(location.search).get('model') ?? BUNDLED_MODEL_URL;
}

/**
 * After a failed download or load. The engine drops its model only once a new one has loaded, so a
 * bad file leaves the model it had working: show that one again (the error is in the banner). Without
 * one, or after a lost device, the status says what failed.
 */
function showFailure(previous: ModelState, label: string, message: string): void {
  const { setModel, status } = useStore.getState();
  if (previous.status === 'ready' && status !== 'lost') setModel(previous, true);
  else setModel({ status: 'failed', label, message }, true);
}

/**
 * Loads through the engine. `quiet` (the automatic start-up load) reports failure in the model status
 * only, so a build without a model, or without a model engine yet, still opens on a clean page.
 * `previous`: the model state before this attempt began (a download passes its own).
 */
export async function loadModel(source: ModelSource, label: string, quiet = false, previous = useStore.getState().model): Promise<boolean> {
  const { setModel, engineEvent, info, setAnalysis, setSpeed, patchClassroom } = useStore.getState();
  if (useStore.getState().generating) {
    useStore.getState().showError('bad-argument', 'Stop the running generation before loading another model.');
    return false;
  }
  const fileBytes = source.kind === 'blob' ? source.blob.size : source.kind === 'blobs' ? source.blobs.reduce((a, b) => a + b.size, 0) : undefined;
  const verdict = fileBytes !== undefined ? fitVerdict({ fileBytes }, { limits: info?.limits, deviceMemoryGiB: deviceMemory() }) : undefined;
  const my = ++loadSeq;
  setModel({ status: 'loading', label, verdict }, true);
  try {
    const summary = await getEngine().load(source, engineEvent, { backend: useBackendSetting.getState().backend });
    if (my !== loadSeq) return false; // a newer load was asked for; its outcome is the one to show
    setModel({ status: 'ready', summary, progress: undefined });
    lastSource = { source, label };
    // The old model's traces and timings are stale; the views measure the new one from here on.
    setAnalysis(undefined);
    setSpeed(undefined);
    if (summary.indexTopK) patchClassroom({ k: Math.min(useStore.getState().classroom.k, summary.contextLength) });
    return true;
  } catch (e) {
    if (my !== loadSeq) return false;
    showFailure(previous, label, isSparseScopeError(e) || e instanceof Error ? e.message : String(e));
    if (!quiet) report(e);
    return false;
  }
}

export function loadFile(file: File): Promise<boolean> {
  return loadModel({ kind: 'blob', blob: file, name: file.name }, file.name);
}

/** Dropped or picked files: one GGUF, or every part of a split set (any order; the engine sorts them). */
export function loadFiles(files: readonly File[]): Promise<boolean> {
  if (files.length === 1) return loadFile(files[0]);
  const sorted = [...files].sort((a, b) => a.name.localeCompare(b.name));
  const name = sorted[0]?.name ?? 'model';
  return loadModel(blobsSource(sorted, name), name);
}

function blobsSource(blobs: Blob[], name: string): ModelSource {
  return blobs.length === 1 ? { kind: 'blob', blob: blobs[0], name } : { kind: 'blobs', blobs, name };
}

export async function loadBundled(): Promise<boolean> {
  const url = startupModelUrl();
  const name = nameOf(url);
  // Offline: the service worker precached the bundled model. Hand the engine the cached Blob (read by
  // range from disk) rather than the URL, because a precache route answers Range requests with the whole file.
  const abs = new URL(url, location.href).href;
  const hit = 'caches' in self ? await caches.match(abs, { ignoreSearch: true }).catch(() => undefined) : undefined;
  if (hit) return loadModel({ kind: 'blob', blob: await hit.blob(), name }, name, true);
  // Absolute: the Worker would resolve a relative URL against its own script's folder (assets/ in a build).
  return loadModel({ kind: 'url', url: abs, name }, name, true);
}

/**
 * Remote URL: served from the cache when present, else downloaded into it with progress, then loaded.
 * Part 1 of a split set (`…-00001-of-0000N.gguf`) brings every part, with one progress bar.
 */
export async function loadUrl(url: string): Promise<boolean> {
  const { setModel, info } = useStore.getState();
  let parsed: URL;
  try {
    parsed = new URL(url, location.href);
    if (!/^https?:$/.test(parsed.protocol)) throw new Error();
  } catch {
    report(new SparseScopeError('bad-argument', `"${url}" is not an http(s) address.`));
    return false;
  }
  const name = nameOf(parsed.href);
  const previous = useStore.getState().model;
  try {
    let blobs = await cachedBlobs(parsed.href);
    if (!blobs) {
      download = new AbortController();
      const free = await freeStorage();
      setModel({ status: 'downloading', label: name }, true);
      blobs = await downloadSetToCache(
        parsed.href,
        (p) => {
          const verdict = p.total
            ? fitVerdict({ fileBytes: p.total }, { limits: info?.limits, deviceMemoryGiB: deviceMemory(), freeStorageBytes: free, needsStorage: true })
            : undefined;
          setModel({ progress: { phase: 'download', ...p }, verdict });
        },
        download.signal,
        free,
      );
    }
    return await loadModel(blobsSource(blobs, name), name, false, previous);
  } catch (e) {
    showFailure(previous, name, e instanceof Error ? e.message : String(e));
    report(e);
    return false;
  } finally {
    download = undefined;
  }
}

export function cancelDownload(): void {
  download?.abort();
}

/** The backend setting changed: load the current model again (the engine picks its backend per load). */
export async function reloadOnBackendChange(): Promise<void> {
  const { model, generating } = useStore.getState();
  if (generating || (model.status !== 'ready' && model.status !== 'failed')) return;
  if (lastSource) await loadModel(lastSource.source, lastSource.label);
  else await loadBundled();
}

/** After a device loss everything on the GPU is gone: load the same model again on the new device. */
export async function reloadLastModel(): Promise<void> {
  if (useStore.getState().status !== 'ready') return;
  if (lastSource) await loadModel(lastSource.source, lastSource.label);
  else await loadBundled();
}
