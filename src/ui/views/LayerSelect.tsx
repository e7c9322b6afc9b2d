/** The layer chooser shared by the views (one layer in the store, so views and the URL agree). */
import { useStore } from '../store.ts';

export function LayerSelect({ layers, note }: { layers: number; note?: (l: number) => string }) {
  const layer = useStore((s) => s.layer);
  const setLayer = useStore((s) => s.setLayer);
  return (
    <label className="layer-select">
      Layer{' '}
      <select data-testid="layer-select" value={Math.min(layer, Math.max(0, layers - 1))} onChange={(e) => setLayer(Number(e.target.value))}>
        {Array.from({ length: layers }, (_, l) => (
          <option key={l} value={l}>
            {l}
            {note ? ` ${note(l)}` : ''}
          </option>
        ))}
      </select>
    </label>
  );
}
