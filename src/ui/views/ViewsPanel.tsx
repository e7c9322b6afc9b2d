/** The inspection side of the page: tabs for the views, the active one below. */
import { useStore } from '../store.ts';
import type { ViewName } from '../state/types.ts';
import { IndexerView } from './IndexerView.tsx';
import { ExpertsView } from './ExpertsView.tsx';
import { MemoryView } from './MemoryView.tsx';
import { SpeedView } from './SpeedView.tsx';
import { ClassroomView } from './ClassroomView.tsx';
import { shareLink } from '../lib/url-state.ts';

const TABS: { id: ViewName; label: string }[] = [
  { id: 'indexer', label: 'Indexer' },
  { id: 'experts', label: 'Experts' },
  { id: 'memory', label: 'Memory' },
  { id: 'speed', label: 'Speed' },
  { id: 'classroom', label: 'Classroom' },
];

export function ViewsPanel() {
  const view = useStore((s) => s.view);
  const setView = useStore((s) => s.setView);
  return (
    <section className="panel views" data-testid="views">
      <nav className="tabs" role="tablist">
        {TABS.map((t) => (
          <button
            key={t.id}
            role="tab"
            aria-selected={view === t.id}
            data-testid={`tab-${t.id}`}
            className={view === t.id ? 'tab active' : 'tab'}
            onClick={() => setView(t.id)}
          >
            {t.label}
          </button>
        ))}
        <span className="spacer" />
        <button className="link" title="Copy a link to this exact view" onClick={() => void navigator.clipboard?.writeText(shareLink())}>
          Copy share link
        </button>
      </nav>
      {view === 'indexer' && <IndexerView />}
      {view === 'experts' && <ExpertsView />}
      {view === 'memory' && <MemoryView />}
      {view === 'speed' && <SpeedView />}
      {view === 'classroom' && <ClassroomView />}
    </section>
  );
}
