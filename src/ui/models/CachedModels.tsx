/** Models downloaded earlier (Cache Storage), with size, load and delete. */
import { useEffect, useState } from 'react';
import { useStore } from '../store.ts';
import { deleteCached, listCached, type CachedModel } from './model-cache.ts';
import { loadUrl } from '../actions/model-actions.ts';
import { formatBytes } from '../lib/memory-model.ts';

export function CachedModels() {
  const status = useStore((s) => s.model.status);
  const [list, setList] = useState<CachedModel[]>([]);
  const refresh = () => void listCached().then(setList, () => setList([]));
  // Re-list after every load attempt: a finished download adds an entry.
  useEffect(refresh, [status]);
  if (!list.length) return null;
  return (
    <details className="cached" data-testid="cached-models">
      <summary>
        Downloaded models ({list.length}, {formatBytes(list.reduce((a, m) => a + m.bytes, 0))})
      </summary>
      <ul>
        {list.map((m) => (
          <li key={m.url}>
            <button className="link" onClick={() => void loadUrl(m.url)}>
              {m.name}
            </button>
            <span className="muted">
              {formatBytes(m.bytes)}
              {m.parts > 1 ? `, ${m.parts} parts` : ''}
            </span>
            <button className="link danger" onClick={() => void deleteCached(m.url).then(refresh)}>
              delete
            </button>
          </li>
        ))}
      </ul>
    </details>
  );
}
