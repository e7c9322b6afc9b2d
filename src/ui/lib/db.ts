/**
 * Conversations in IndexedDB (they survive reloads), plus JSON export/import of all of them.
 * Several tabs share the database. Each save is one read-then-write transaction (IndexedDB runs
 * read-write transactions on a store one at a time, across tabs), and a tab never overwrites messages
 * it has not seen: when the stored copy holds a message this tab neither has nor ever saw (another tab
 * added it to the same conversation), this tab's version is saved as a new conversation instead.
 */
import { openDB, type IDBPDatabase } from 'idb';
import type { Conversation } from '../state/types.ts';
import { newId } from '../state/chat-slice.ts';

let db: Promise<IDBPDatabase> | undefined;

function open(): Promise<IDBPDatabase> {
  db ??= openDB('sparsescope', 1, {
    upgrade(d) {
      d.createObjectStore('conversations', { keyPath: 'id' });
    },
  });
  return db;
}

const LAST = 'sparsescope:last-conversation';

/** Per conversation id: every message id this tab has loaded or saved under it. */
const seen = new Map<string, Set<string>>();

function see(c: Conversation): void {
  const ids = seen.get(c.id) ?? new Set<string>();
  c.messages.forEach((m) => ids.add(m.id));
  seen.set(c.id, ids);
}

/**
 * Saves `c`; resolves with the id it was saved under: `c.id`, or a new id when another tab had added
 * messages to the stored copy meanwhile (both versions are then kept, nothing is overwritten).
 */
export async function saveConversation(c: Conversation): Promise<string> {
  // Drop streaming-only detail: token positions refer to a context that is gone after a reload.
  let slim: Conversation = { ...c, messages: c.messages.map((m) => ({ ...m, tokens: m.tokens?.map((t) => ({ text: t.text })) })) };
  const tx = (await open()).transaction('conversations', 'readwrite');
  const stored = (await tx.store.get(c.id)) as Conversation | undefined;
  const mine = new Set(c.messages.map((m) => m.id));
  const known = seen.get(c.id);
  if (stored?.messages.some((m) => !mine.has(m.id) && !known?.has(m.id))) slim = { ...slim, id: newId(), title: `${c.title} (another tab)` };
  await tx.store.put(slim);
  await tx.done;
  see(slim);
  localStorage.setItem(LAST, slim.id);
  return slim.id;
}

export async function listConversations(): Promise<{ id: string; title: string; updatedAt: number }[]> {
  const all = (await (await open()).getAll('conversations')) as Conversation[];
  return all.map(({ id, title, updatedAt }) => ({ id, title, updatedAt })).sort((a, b) => b.updatedAt - a.updatedAt);
}

export async function loadConversation(id: string): Promise<Conversation | undefined> {
  const c = (await (await open()).get('conversations', id)) as Conversation | undefined;
  if (c) see(c);
  // A reply saved while it was still streaming (the page closed mid-generation) never finished.
  return c && { ...c, messages: c.messages.map((m) => (m.status === 'streaming' ? { ...m, status: 'interrupted' } : m)) };
}

export async function lastConversation(): Promise<Conversation | undefined> {
  const id = localStorage.getItem(LAST);
  return id ? loadConversation(id) : undefined;
}

export async function deleteConversation(id: string): Promise<void> {
  await (await open()).delete('conversations', id);
}

export async function exportConversations(): Promise<string> {
  const all = (await (await open()).getAll('conversations')) as Conversation[];
  return JSON.stringify({ format: 'sparsescope-conversations', version: 1, conversations: all }, null, 2);
}

/** Accepts this app's export; returns how many conversations were imported. Throws a readable Error on other JSON. */
export async function importConversations(json: string): Promise<number> {
  const data = JSON.parse(json) as { format?: string; conversations?: Conversation[] };
  if (data.format !== 'sparsescope-conversations' || !Array.isArray(data.conversations)) {
    throw new Error('That file is not a SparseScope conversations export.');
  }
  const d = await open();
  for (const c of data.conversations) {
    if (typeof c.id !== 'string' || !Array.isArray(c.messages)) continue;
    await d.put('conversations', c);
  }
  return data.conversations.length;
}
