/** Conversations in IndexedDB (they survive reloads), plus JSON export/import of all of them. */
import { openDB, type IDBPDatabase } from 'idb';
import type { Conversation } from '../state/types.ts';

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

export async function saveConversation(c: Conversation): Promise<void> {
  // Drop streaming-only detail: token positions refer to a context that is gone after a reload.
  const slim: Conversation = { ...c, messages: c.messages.map((m) => ({ ...m, tokens: m.tokens?.map((t) => ({ text: t.text })) })) };
  await (await open()).put('conversations', slim);
  localStorage.setItem(LAST, c.id);
}

export async function listConversations(): Promise<{ id: string; title: string; updatedAt: number }[]> {
  const all = (await (await open()).getAll('conversations')) as Conversation[];
  return all.map(({ id, title, updatedAt }) => ({ id, title, updatedAt })).sort((a, b) => b.updatedAt - a.updatedAt);
}

export async function loadConversation(id: string): Promise<Conversation | undefined> {
  const c = (await (await open()).get('conversations', id)) as Conversation | undefined;
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
