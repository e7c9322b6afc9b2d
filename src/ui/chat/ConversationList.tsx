/** Saved conversations (IndexedDB): open, delete, new, export and import as JSON. */
import { useStore } from '../store.ts';
import { exportConversations, importConversations, newConversation, openConversation, removeConversation } from '../actions/chat-actions.ts';

export function ConversationList() {
  const list = useStore((s) => s.conversations);
  const current = useStore((s) => s.conversation.id);
  const generating = useStore((s) => s.generating);
  return (
    <details className="conversations" data-testid="conversations">
      <summary>Conversations ({list.length})</summary>
      <div className="row">
        <button disabled={generating} onClick={newConversation} data-testid="new-conversation">
          New
        </button>
        <button disabled={!list.length} onClick={() => void exportConversations()}>
          Export JSON
        </button>
        <label className="button">
          Import JSON
          <input type="file" accept="application/json,.json" hidden onChange={(e) => e.target.files?.[0] && void importConversations(e.target.files[0])} />
        </label>
      </div>
      <ul>
        {list.map((c) => (
          <li key={c.id} className={c.id === current ? 'current' : ''}>
            <button className="link" disabled={generating} onClick={() => void openConversation(c.id)}>
              {c.title || 'untitled'}
            </button>
            <span className="muted">{new Date(c.updatedAt).toLocaleString()}</span>
            <button className="link danger" aria-label={`Delete ${c.title}`} onClick={() => void removeConversation(c.id)}>
              ✕
            </button>
          </li>
        ))}
      </ul>
    </details>
  );
}
