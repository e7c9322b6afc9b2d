/**
 * The remote endpoint the page is connected to, if any (the chat then streams from it), and the form's
 * fields. The API key lives here, in memory, unless the user ticks "remember" (then localStorage).
 */
import { create } from 'zustand';
import type { RemoteEndpoint } from './remote-engine.ts';

const STORAGE_KEY = 'sparsescope-remote-endpoint';

export interface RemoteState {
  /** The endpoint the chat uses now; undefined = the local engine. */
  active?: RemoteEndpoint;
  form: RemoteEndpoint;
  remember: boolean;
  connecting: boolean;
  /** Model ids the server listed, for the model field's suggestions. */
  listed: string[];
}

function remembered(): { form: RemoteEndpoint; remember: boolean } {
  try {
    const raw = localStorage.getItem(STORAGE_KEY);
    if (raw) return { form: JSON.parse(raw) as RemoteEndpoint, remember: true };
  } catch {
    // storage refused (private window) or not JSON: start empty
  }
  return { form: { baseUrl: 'http://127.0.0.1:8080/v1', apiKey: '', model: '' }, remember: false };
}

export const useRemote = create<RemoteState>()(() => ({ ...remembered(), connecting: false, listed: [] }));

/** Stores the form (key included) only when the user asked for it; otherwise forgets any stored copy. */
export function saveRemembered(s: Pick<RemoteState, 'form' | 'remember'>): void {
  try {
    if (s.remember) localStorage.setItem(STORAGE_KEY, JSON.stringify(s.form));
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage refused: the endpoint still works for this visit
  }
}
