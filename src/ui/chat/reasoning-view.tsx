/**
 * A reply's reasoning (`<think>`…`</think>`) above its answer: one collapsed line, "Thinking…" while it
 * streams and "Reasoning" after, that opens to show the text. The split is ../../model/chat-formats/reasoning.ts.
 */
import { useState } from 'react';
import type { ReasoningSplit } from '../../model/chat-formats/reasoning.ts';

/** `streaming`: the reply is still growing (a stopped reply whose reasoning never closed is not "Thinking…"). */
export function ReasoningView({ split, streaming }: { split: ReasoningSplit; streaming: boolean }) {
  const [open, setOpen] = useState(false);
  if (split.reasoning === null) return null;
  const thinking = split.open && streaming;
  const words = split.reasoning.trim() ? split.reasoning.trim().split(/\s+/).length : 0;
  return (
    <div
      className="msg-reasoning"
      data-testid="reasoning"
      data-open={open}
      data-streaming={thinking}
      style={{ margin: '2px 0 4px', fontSize: 13, opacity: 0.85 }}
    >
      <button
        type="button"
        data-testid="reasoning-toggle"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
        style={{ background: 'none', border: 'none', padding: 0, cursor: 'pointer', color: 'inherit', font: 'inherit' }}
      >
        {open ? '▾' : '▸'} {thinking ? 'Thinking…' : 'Reasoning'} <span style={{ opacity: 0.7 }}>({words} words)</span>
      </button>
      {open && (
        <div
          data-testid="reasoning-text"
          className="msg-body text"
          style={{ borderLeft: '2px solid currentColor', paddingLeft: 8, marginTop: 2, opacity: 0.8 }}
        >
          {split.reasoning}
        </div>
      )}
    </div>
  );
}
