/** The chat column: conversations, messages, live metrics, composer and settings. */
import { useEffect, useRef } from 'react';
import { useStore } from '../store.ts';
import { MessageView } from './MessageView.tsx';
import { Composer } from './Composer.tsx';
import { Metrics } from './Metrics.tsx';
import { SettingsPanel } from './SettingsPanel.tsx';
import { ConversationList } from './ConversationList.tsx';

export function ChatPanel() {
  const messages = useStore((s) => s.conversation.messages);
  const title = useStore((s) => s.conversation.title);
  const render = useStore((s) => s.render);
  const setRender = useStore((s) => s.setRender);
  const end = useRef<HTMLDivElement>(null);
  // Braces matter: Chromium's scrollIntoView now returns a Promise, which React would take for a clean-up.
  useEffect(() => {
    end.current?.scrollIntoView({ block: 'nearest' });
  }, [messages]);
  return (
    <section className="panel chat" data-testid="chat">
      <div className="chat-head">
        <h2 title={title}>{title}</h2>
        <span className="spacer" />
        <label>
          show{' '}
          <select data-testid="render-mode" value={render} onChange={(e) => setRender(e.target.value as typeof render)}>
            <option value="markdown">markdown</option>
            <option value="text">plain text</option>
            <option value="tokens">tokens (hover)</option>
          </select>
        </label>
      </div>
      <ConversationList />
      <div className="messages" data-testid="messages">
        {messages.length === 0 && <p className="empty">No messages yet. The model runs on your GPU; nothing leaves this page.</p>}
        {messages.map((m) => (
          <MessageView key={m.id} m={m} />
        ))}
        <div ref={end} />
      </div>
      <Metrics />
      <Composer />
      <SettingsPanel />
    </section>
  );
}
