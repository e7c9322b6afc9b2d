/** Chat slice: the open conversation, the list of saved ones, sampling settings, live metrics. */
import type { StateCreator } from 'zustand';
import type { Conversation, Message, Metrics, Settings } from './types.ts';
import type { Store } from '../store.ts';
import type { EngineEvent } from './engine-event.ts';

export interface ChatSlice {
  conversation: Conversation;
  conversations: { id: string; title: string; updatedAt: number }[];
  generating: boolean;
  settings: Settings;
  render: 'markdown' | 'text' | 'tokens';
  /** The composer's text: in the store so a refused (too long) message can be handed back. */
  draft: string;
  metrics: Metrics;
  setConversation(c: Conversation): void;
  setConversations(list: ChatSlice['conversations']): void;
  addMessage(m: Message): void;
  removeLastMessage(): void;
  patchLastMessage(patch: Partial<Message>): void;
  setGenerating(on: boolean): void;
  setSettings(patch: Partial<Settings>): void;
  setRender(r: ChatSlice['render']): void;
  /** A generation's tokens (the reply and the live metrics) and its end (status and stats). */
  chatEvent(e: EngineEvent): void;
}

export const newId = () => Math.random().toString(36).slice(2, 10) + Date.now().toString(36);

export function emptyConversation(): Conversation {
  const now = Date.now();
  return { id: newId(), title: 'New conversation', createdAt: now, updatedAt: now, messages: [] };
}

export const DEFAULT_SETTINGS: Settings = {
  temperature: 0.7,
  topP: 0.95,
  topK: 40,
  minP: 0,
  repetitionPenalty: 1,
  seed: 1,
  maxTokens: 128,
  traceChat: true,
};

export const createChatSlice: StateCreator<Store, [], [], ChatSlice> = (set, get) => ({
  conversation: emptyConversation(),
  conversations: [],
  generating: false,
  settings: DEFAULT_SETTINGS,
  render: 'markdown',
  draft: '',
  metrics: { startedAt: 0, firstTokenAt: 0, lastAt: 0, tokens: 0 },
  setConversation: (conversation) => set({ conversation }),
  setConversations: (conversations) => set({ conversations }),
  addMessage: (m) =>
    set((s) => {
      const title = s.conversation.messages.length === 0 && m.role === 'user' ? m.content.slice(0, 48) : s.conversation.title;
      return { conversation: { ...s.conversation, title, updatedAt: Date.now(), messages: [...s.conversation.messages, m] } };
    }),
  removeLastMessage: () => set((s) => ({ conversation: { ...s.conversation, messages: s.conversation.messages.slice(0, -1) } })),
  patchLastMessage: (patch) =>
    set((s) => {
      const msgs = s.conversation.messages;
      if (!msgs.length) return {};
      return { conversation: { ...s.conversation, updatedAt: Date.now(), messages: [...msgs.slice(0, -1), { ...msgs[msgs.length - 1], ...patch }] } };
    }),
  setGenerating: (generating) => set({ generating }),
  setSettings: (patch) => set((s) => ({ settings: { ...s.settings, ...patch } })),
  setRender: (render) => set({ render }),
  chatEvent: (e) => {
    const s = get();
    if (e.kind === 'token') {
      const now = performance.now();
      const m = s.metrics;
      set({ metrics: { ...m, tokens: m.tokens + 1, firstTokenAt: m.firstTokenAt || now, lastAt: now } });
      const last = s.conversation.messages.at(-1);
      if (last?.role === 'assistant') {
        s.patchLastMessage({ content: last.content + e.text, tokens: [...(last.tokens ?? []), { text: e.text, position: e.trace?.position }] });
      }
    } else if (e.kind === 'done') {
      s.patchLastMessage({
        status: e.reason === 'aborted' ? 'stopped' : 'done',
        stats: { tokens: e.tokens, tokensPerSecond: e.tokensPerSecond, timeToFirstTokenMs: e.timeToFirstTokenMs },
      });
    }
  },
});
