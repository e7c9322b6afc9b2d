/**
 * The backend setting (settings panel): `auto` (the engine picks, backend-choice.ts), or `webgpu` /
 * `cpu` forced; kept in localStorage so it survives a reload. `?backend=cpu|webgpu|auto` in the URL
 * overrides it for that visit (the browser bench opens the page that way).
 */
import { create } from 'zustand';
import type { BackendPreference } from '../../api/protocol.ts';

const KEY = 'sparsescope.backend';
const VALUES: readonly BackendPreference[] = ['auto', 'webgpu', 'cpu'];

const valid = (v: string | null | undefined): BackendPreference | undefined =>
  (VALUES as readonly (string | null | undefined)[]).includes(v) ? (v as BackendPreference) : undefined;

function initial(): BackendPreference {
  const fromUrl = typeof location !== 'undefined' ? valid(new URLSearchParams(location.search).get('backend')) : undefined;
  if (fromUrl) return fromUrl;
  try {
    return valid(globalThis.localStorage?.getItem(KEY)) ?? 'auto';
  } catch {
    return 'auto'; // storage blocked: the engine picks
  }
}

interface BackendSetting {
  backend: BackendPreference;
  setBackend(b: BackendPreference): void;
}

export const BACKEND_OPTIONS: { value: BackendPreference; label: string }[] = [
  { value: 'auto', label: 'auto (the fastest here)' },
  { value: 'webgpu', label: 'WebGPU' },
  { value: 'cpu', label: 'CPU' },
];

export const useBackendSetting = create<BackendSetting>()((set) => ({
  backend: initial(),
  setBackend(backend) {
    try {
      globalThis.localStorage?.setItem(KEY, backend);
    } catch {
      // not persisted; the setting still holds for this page
    }
    set({ backend });
  },
}));
