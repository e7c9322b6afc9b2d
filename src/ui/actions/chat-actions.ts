/** Chat actions: send, stop, regenerate, and keeping conversations in IndexedDB. */
import { SparseScopeError, isSparseScopeError } from '../../errors.ts';
import { getEngine, report } from '../engine.ts';
import { useStore } from '../store.ts';
import { emptyConversation, newId } from '../state/chat-slice.ts';
import * as db from '../lib/db.ts';
import { thinkingFor } from '../chat/reasoning-settings.ts';

const get = useStore.getState;
let regenerations = 0;

export async function persist(): Promise<void> {
  const c = get().conversation;
  if (!c.messages.length) return;
  try {
    const id = await db.saveConversation(c);
    // Another tab added to this conversation meanwhile: ours was kept as a new one, which this tab now shows.
    if (id !== c.id && get().conversation.id === c.id) get().setConversation({ ...get().conversation, id, title: `${c.title} (another tab)` });
    get().setConversations(await db.listConversations());
  } catch (e) {
    report(new Error(`Could not save the conversation: ${e instanceof Error ? e.message : String(e)}`));
  }
}

export async function restoreConversations(): Promise<void> {
  try {
    const last = await db.lastConversation();
    if (last) get().setConversation(last);
    get().setConversations(await db.listConversations());
  } catch {
    // Private windows may refuse IndexedDB: the chat still works, it just is not kept.
  }
}

/** Starts a reply; returns false (and starts nothing) when refused: empty, busy, or no model. */
export function send(text: string): boolean {
  const s = get();
  if (!text.trim() || s.generating) return false;
  if (s.model.status !== 'ready') {
    report(new SparseScopeError('bad-argument', 'No model is loaded yet: load the bundled model, a file or a URL first.'));
    return false;
  }
  s.addMessage({ id: newId(), role: 'user', content: text });
  // Saved now, so a page closed mid-reply keeps the question (the reply is saved when it ends).
  void persist();
  void generate(0);
  return true;
}

export function regenerate(): Promise<boolean> {
  const s = get();
  if (s.generating) return Promise.resolve(false);
  if (s.conversation.messages.at(-1)?.role === 'assistant') s.removeLastMessage();
  if (!get().conversation.messages.length) return Promise.resolve(false);
  // A new seed per regeneration, so "regenerate" gives another answer even with a fixed seed.
  return generate(++regenerations);
}

async function generate(seedOffset: number): Promise<boolean> {
  const s = get();
  const messages = s.conversation.messages.map(({ role, content }) => ({ role, content }));
  const { maxTokens, traceChat, ...sampling } = s.settings;
  s.addMessage({ id: newId(), role: 'assistant', content: '', tokens: [], status: 'streaming' });
  useStore.setState({ metrics: { startedAt: performance.now(), firstTokenAt: 0, lastAt: 0, tokens: 0 } });
  s.setGenerating(true);
  try {
    // Resolves after the 'done' event has been delivered (src/worker/client.ts), so the reply saved below is whole.
    await getEngine().generate(
      {
        messages,
        maxTokens,
        sampling: { ...sampling, seed: sampling.seed + seedOffset },
        trace: traceChat ? { indexer: true, dense: true, router: true } : undefined,
        // the settings' thinking switch, when the model's chat format has a thinking mode
        thinking: thinkingFor(s.model.summary?.chatFormat),
      },
      (e) => get().engineEvent(e),
    );
    return true;
  } catch (e) {
    const last = get().conversation.messages.at(-1);
    if (last?.role === 'assistant' && !last.content) get().removeLastMessage();
    else if (last?.role === 'assistant') get().patchLastMessage({ status: 'interrupted' });
    if (isSparseScopeError(e) && e.code === 'context-overflow') {
      // Refused, not truncated: drop the user turn and hand its text back to the composer to shorten.
      const user = get().conversation.messages.at(-1);
      if (user?.role === 'user') {
        get().removeLastMessage();
        useStore.setState({ draft: user.content });
      }
      report(new SparseScopeError('context-overflow', `${e.message} Shorten the message or start a new conversation.`));
    } else if (!(isSparseScopeError(e) && e.code === 'device-lost' && get().status === 'lost')) {
      // A lost device is already in the banner (with its Restart button) from the engine's status event.
      report(e);
    }
    return false;
  } finally {
    get().setGenerating(false);
    await persist();
  }
}

export function stop(): void {
  void getEngine().abort();
}

export function newConversation(): void {
  if (get().generating) return;
  get().setConversation(emptyConversation());
}

export async function openConversation(id: string): Promise<void> {
  if (get().generating) return;
  const c = await db.loadConversation(id);
  if (c) get().setConversation(c);
}

export async function removeConversation(id: string): Promise<void> {
  await db.deleteConversation(id);
  if (get().conversation.id === id) get().setConversation(emptyConversation());
  get().setConversations(await db.listConversations());
}

export async function exportConversations(): Promise<void> {
  const json = await db.exportConversations();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
  a.download = `sparsescope-conversations-${new Date().toISOString().slice(0, 10)}.json`;
  a.click();
  URL.revokeObjectURL(a.href);
}

export async function importConversations(file: File): Promise<void> {
  try {
    await db.importConversations(await file.text());
    get().setConversations(await db.listConversations());
  } catch (e) {
    report(new SparseScopeError('bad-argument', e instanceof SyntaxError ? `${file.name} is not valid JSON.` : e instanceof Error ? e.message : String(e)));
  }
}
