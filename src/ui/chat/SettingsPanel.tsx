/** Sampling settings, passed to the engine with each generation. */
import { useStore } from '../store.ts';
import type { Settings } from '../state/types.ts';
import { useThinkingSetting } from './reasoning-settings.ts';
import { BACKEND_OPTIONS, useBackendSetting } from '../state/backend-setting.ts';
import { reloadOnBackendChange } from '../actions/model-actions.ts';
import type { BackendPreference } from '../../api/protocol.ts';

const FIELDS: { key: keyof Settings; label: string; min: number; max: number; step: number; hint: string }[] = [
  { key: 'temperature', label: 'temperature', min: 0, max: 2, step: 0.05, hint: '0 = always the most likely token' },
  { key: 'topP', label: 'top-p', min: 0.05, max: 1, step: 0.05, hint: 'keep the smallest set of tokens with this much probability' },
  { key: 'topK', label: 'top-k', min: 0, max: 200, step: 1, hint: 'keep only the k most likely tokens (0 = all)' },
  { key: 'maxTokens', label: 'max tokens', min: 1, max: 2048, step: 1, hint: 'stop after this many tokens' },
  { key: 'seed', label: 'seed', min: 0, max: 2 ** 31 - 1, step: 1, hint: 'same seed, same reply' },
];

export function SettingsPanel() {
  const settings = useStore((s) => s.settings);
  const setSettings = useStore((s) => s.setSettings);
  const chatFormat = useStore((s) => s.model.summary?.chatFormat);
  const thinking = useThinkingSetting((s) => s.thinking);
  const setThinking = useThinkingSetting((s) => s.setThinking);
  const backend = useBackendSetting((s) => s.backend);
  return (
    <details className="settings">
      <summary>Sampling settings</summary>
      <div className="settings-grid">
        {FIELDS.map((f) => (
          <label key={f.key} title={f.hint}>
            <span>{f.label}</span>
            <input
              data-testid={`setting-${f.key}`}
              type="number"
              min={f.min}
              max={f.max}
              step={f.step}
              value={settings[f.key] as number}
              onChange={(e) => {
                const v = Number(e.target.value);
                if (Number.isFinite(v)) setSettings({ [f.key]: Math.min(f.max, Math.max(f.min, v)) });
              }}
            />
          </label>
        ))}
        <label title="Which backend runs the model: auto measures on a software GPU and keeps the faster; changing it loads the model again">
          <span>backend</span>
          <select
            data-testid="setting-backend"
            value={backend}
            onChange={(e) => {
              useBackendSetting.getState().setBackend(e.target.value as BackendPreference);
              void reloadOnBackendChange();
            }}
          >
            {BACKEND_OPTIONS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <label title="Read the indexer, attention and router back from the GPU for every token (slower)">
          <span>trace tokens</span>
          <input type="checkbox" checked={settings.traceChat} onChange={(e) => setSettings({ traceChat: e.target.checked })} />
        </label>
        {chatFormat?.thinking && (
          <label title={`${chatFormat.label}: the reply starts with its reasoning (<think>…</think>), shown collapsed above the answer`}>
            <span>thinking mode</span>
            <input data-testid="setting-thinking" type="checkbox" checked={thinking} onChange={(e) => setThinking(e.target.checked)} />
          </label>
        )}
      </div>
    </details>
  );
}
