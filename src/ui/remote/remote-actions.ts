/**
 * Connecting the chat to a remote endpoint and back. Connecting selects a RemoteEngine in
 * src/ui/engine.ts and "loads" it through the same loadModel as a local model (the server must list the
 * model id), so the model bar, the chat and its meters work unchanged. Disconnecting goes back to the
 * local engine, whose model stayed loaded in the Worker all along.
 */
import { useStore } from '../store.ts';
import { report, selectLocalEngine, selectRemoteEngine } from '../engine.ts';
import { loadModel } from '../actions/model-actions.ts';
import type { ModelState } from '../state/types.ts';
import { RemoteEngine, type RemoteEndpoint } from './remote-engine.ts';
import { saveRemembered, useRemote } from './remote-store.ts';

let localModel: ModelState | undefined;

function clean(e: RemoteEndpoint): RemoteEndpoint {
  return { baseUrl: e.baseUrl.trim().replace(/\/+$/, ''), apiKey: e.apiKey?.trim() || undefined, model: e.model.trim() };
}

export async function listRemoteModels(): Promise<void> {
  try {
    const listed = await new RemoteEngine(clean(useRemote.getState().form)).listModels();
    useRemote.setState((s) => ({ listed, form: s.form.model ? s.form : { ...s.form, model: listed[0] ?? '' } }));
  } catch (e) {
    report(e);
  }
}

export async function connectRemote(): Promise<boolean> {
  const { form, remember } = useRemote.getState();
  if (useStore.getState().generating) {
    useStore.getState().showError('bad-argument', 'Stop the running generation before switching to a remote endpoint.');
    return false;
  }
  const endpoint = clean(form);
  if (!endpoint.baseUrl || !endpoint.model) {
    useStore.getState().showError('bad-argument', 'A remote endpoint needs a base URL (like http://127.0.0.1:8080/v1) and a model id.');
    return false;
  }
  saveRemembered({ form, remember });
  const wasLocal = !useRemote.getState().active;
  if (wasLocal) localModel = useStore.getState().model;
  useRemote.setState({ connecting: true });
  selectRemoteEngine(new RemoteEngine(endpoint));
  const ok = await loadModel({ kind: 'url', url: endpoint.baseUrl, name: endpoint.model }, `${endpoint.model} at ${endpoint.baseUrl}`);
  if (ok) useRemote.setState({ active: endpoint, connecting: false });
  else {
    useRemote.setState({ connecting: false });
    if (wasLocal) disconnectRemote();
  }
  return ok;
}

/** The local model's state from before the remote connection (the Worker still holds it). */
export function localModelState(): ModelState | undefined {
  return localModel;
}

export function disconnectRemote(): void {
  if (useStore.getState().generating) return;
  selectLocalEngine();
  useRemote.setState({ active: undefined });
  if (localModel) useStore.getState().setModel(localModel, true);
  localModel = undefined;
}
