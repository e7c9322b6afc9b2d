/**
 * The tuning store in the page: IndexedDB database "sparsescope-tuning", object store "adapters", one
 * entry per adapter key holding that adapter's records. Falls back to memory where IndexedDB is missing
 * or refuses (some private windows), so tuning still works for the session.
 */
import { memoryStore, validRecords, type AdapterRecords, type TuningStore } from './store.ts';

const DB = 'sparsescope-tuning';
const OBJECTS = 'adapters';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((ok, fail) => {
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
}

function open(idb: IDBFactory): Promise<IDBDatabase> {
  const r = idb.open(DB, 1);
  r.onupgradeneeded = () => r.result.createObjectStore(OBJECTS);
  return request(r);
}

export function indexedDbStore(idb: IDBFactory | undefined = globalThis.indexedDB): TuningStore {
  if (!idb) return memoryStore();
  const fallback = memoryStore();
  let db: Promise<IDBDatabase> | undefined;
  const getDb = () => (db ??= open(idb));
  return {
    where: `IndexedDB ${DB}`,
    load: async (key) => {
      try {
        const v: unknown = await request((await getDb()).transaction(OBJECTS, 'readonly').objectStore(OBJECTS).get(key));
        return validRecords(v) ?? (await fallback.load(key));
      } catch {
        return fallback.load(key);
      }
    },
    save: async (key, records: AdapterRecords) => {
      await fallback.save(key, records);
      try {
        await request((await getDb()).transaction(OBJECTS, 'readwrite').objectStore(OBJECTS).put(records, key));
      } catch {
        // kept in memory for this session
      }
    },
  };
}
