/** The message box with Send / Stop / Regenerate. Enter sends, Shift+Enter adds a line. */
import { useStore } from '../store.ts';
import { regenerate, send, stop } from '../actions/chat-actions.ts';

export function Composer() {
  const draft = useStore((s) => s.draft);
  const generating = useStore((s) => s.generating);
  const ready = useStore((s) => s.model.status === 'ready');
  const canRegenerate = useStore((s) => s.conversation.messages.length > 0);
  const submit = () => {
    const text = useStore.getState().draft;
    // A refused message stays in the box, so nothing typed is lost.
    if (send(text)) useStore.setState({ draft: '' });
  };
  return (
    <div className="composer">
      <textarea
        data-testid="chat-input"
        rows={3}
        placeholder={ready ? 'Ask something… (Enter to send, Shift+Enter for a new line)' : 'Load a model to start chatting'}
        value={draft}
        onChange={(e) => useStore.setState({ draft: e.target.value })}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            if (!generating) submit();
          }
        }}
      />
      <div className="composer-buttons">
        {generating ? (
          <button data-testid="stop" className="danger" onClick={stop}>
            Stop
          </button>
        ) : (
          <button data-testid="send" className="primary" disabled={!ready || !draft.trim()} onClick={() => submit()}>
            Send
          </button>
        )}
        <button data-testid="regenerate" disabled={generating || !ready || !canRegenerate} onClick={() => void regenerate()}>
          Regenerate
        </button>
      </div>
    </div>
  );
}
