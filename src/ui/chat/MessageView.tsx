/**
 * One chat message: plain text, sanitized markdown, or token by token (hover shows what the indexer picked).
 * A reply's reasoning (`<think>`…`</think>`) shows as a collapsed section above the answer; the message
 * keeps it, and the next prompt drops it (src/model/chat-formats/).
 */
import { promptOpensThinking, splitReasoning } from '../../model/chat-formats/reasoning.ts';
import { useStore } from '../store.ts';
import type { Message } from '../state/types.ts';
import { renderMarkdown } from './markdown.ts';
import { ReasoningView } from './reasoning-view.tsx';

export function MessageView({ m }: { m: Message }) {
  const render = useStore((s) => s.render);
  const isAssistant = m.role === 'assistant';
  const streaming = m.status === 'streaming';
  // In thinking mode the prompt ends with <think>, so the streaming reply starts inside its reasoning.
  // The engine's prefill event put the prompt's tokens in front of the reply's in the chat analysis.
  const startsInside = useStore((s) => {
    const a = s.analysis;
    if (!streaming || a?.source !== 'chat') return false;
    const promptEnd = a.tokens.length - (m.tokens?.length ?? 0);
    return promptOpensThinking(
      a.tokens
        .slice(Math.max(0, promptEnd - 4), promptEnd)
        .map((t) => t.text)
        .join(''),
    );
  });
  const split = isAssistant ? splitReasoning(m.content, { streaming, startsInside }) : undefined;
  const body = split ? split.answer : m.content;
  return (
    <div className={`msg ${m.role}`} data-testid={isAssistant ? 'assistant-message' : 'user-message'} data-status={m.status}>
      <div className="msg-role">
        {m.role}
        {m.status === 'streaming' && <span className="cursor">▍</span>}
        {m.status === 'stopped' && <span className="tag">stopped</span>}
        {m.status === 'interrupted' && <span className="tag warn">interrupted</span>}
        {m.stats && (
          <span className="msg-stats">
            {m.stats.tokens} tokens · {m.stats.tokensPerSecond.toFixed(1)} tok/s · first token {m.stats.timeToFirstTokenMs.toFixed(0)} ms
          </span>
        )}
      </div>
      {isAssistant && render === 'tokens' && m.tokens ? (
        <Tokens m={m} />
      ) : (
        <>
          {split && <ReasoningView split={split} streaming={streaming} />}
          {isAssistant && render === 'markdown' && !streaming ? (
            <div className="msg-body md" dangerouslySetInnerHTML={{ __html: renderMarkdown(body) }} />
          ) : (
            <div className="msg-body text">{body}</div>
          )}
        </>
      )}
    </div>
  );
}

function Tokens({ m }: { m: Message }) {
  const setHover = useStore((s) => s.setHover);
  const hover = useStore((s) => s.hover);
  const layer = useStore((s) => s.layer);
  // Picks of the hovered token in the selected layer, to mark generated tokens that were picked.
  const picked = useStore((s) => {
    const row = s.analysis?.rows.find((r) => r.position === s.hover);
    return row?.layers[Math.min(layer, row.layers.length - 1)]?.chosen;
  });
  const set = new Set(picked ?? []);
  return (
    <div className="msg-body tokens" onMouseLeave={() => setHover(undefined)}>
      {m.tokens!.map((t, i) => (
        <span
          key={i}
          data-position={t.position}
          className={t.position !== undefined && t.position === hover ? 'tok query' : t.position !== undefined && set.has(t.position) ? 'tok picked' : 'tok'}
          onMouseEnter={() => t.position !== undefined && setHover(t.position)}
        >
          {t.text}
        </span>
      ))}
    </div>
  );
}
