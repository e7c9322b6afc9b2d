/** The inspection side of the page: tabs for the views, the active one below. */
import type { ComponentType } from 'react';
import { useStore } from '../store.ts';
import { VIEW_LIST, type ViewName } from './view-list.ts';
import { IndexerView } from './IndexerView.tsx';
import { ExpertsView } from './ExpertsView.tsx';
import { MemoryView } from './MemoryView.tsx';
import { SpeedView } from './SpeedView.tsx';
import { ClassroomView } from './ClassroomView.tsx';
import { shareLink } from '../lib/url-state.ts';

/** Every view's component (complete by type: a name in VIEW_LIST without one does not compile). */
const VIEWS: Record<ViewName, ComponentType> = {
  indexer: IndexerView,
  experts: ExpertsView,
  memory: MemoryView,
  speed: SpeedView,
  classroom: ClassroomView,
};

export function ViewsPanel() {
  const view = useStore((s) => s.view);
  const setView = useStore((s) => s.setView);
  const View = VIEWS[view];
  return (
    <section className="panel views" data-testid="views">
      <nav className="tabs" role="tablist">
        {VIEW_LIST.map((t) => (
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
      <View />
    </section>
  );
}
