/**
 * Where the backend measurements (backend-choice.ts) are kept, so each adapter + model shape is measured
 * once: IndexedDB in a page or Worker, a JSON file under .cache/ in Node, memory elsewhere. A cache that
 * fails (storage blocked, a read-only disk) only costs a new measurement, never a load.
 */
import type { BackendTiming } from './backend-choice.ts';

export interface ChoiceCache {
  get(key: string): Promise<BackendTiming | undefined>;
  set(key: string, timing: BackendTiming): Promise<void>;
}

export function memoryChoiceCache(): ChoiceCache {
  const m = new Map<string, BackendTiming>();
  return { get: async (k) => m.get(k), set: async (k, t) => void m.set(k, t) };
}

const DB = 'sparsescope-backend-choice';
const STORE = 'timings';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** One object store, keyed by the choice key (its own database: the page's db.ts holds conversations). */
export function indexedDbChoiceCache(idb: IDBFactory): ChoiceCache {
  let db: Promise<IDBDatabase> | undefined;
  const open = () =>
    (db ??= new Promise((resolve, reject) => {
      const r = idb.open(DB, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    }));
  return {
    async get(key) {
      try {
        return (await request((await open()).transaction(STORE).objectStore(STORE).get(key))) as BackendTiming | undefined;
      } catch {
        return undefined;
      }
    },
    async set(key, timing) {
      try {
        await request((await open()).transaction(STORE, 'readwrite').objectStore(STORE).put(timing, key));
      } catch {
        // not kept: the next load measures again
      }
    },
  };
}

type NodeFs = typeof import('node:fs');

/**
 * `.cache/backend-choice.json` under the working directory (the repository's .cache in the CLI, tests and
 * bench). node:fs comes from process.getBuiltinModule, so the page's bundle never imports it.
 */
export function fileChoiceCache(fs: NodeFs, path: string): ChoiceCache {
  const read = (): Record<string, BackendTiming> => {
    try {
      return JSON.parse(fs.readFileSync(path, 'utf8')) as Record<string, BackendTiming>;
    } catch {
      return {};
    }
  };
  return {
    get: async (key) => read()[key],
    async set(key, timing) {
      try {
        fs.mkdirSync(path.slice(0, path.lastIndexOf('/')), { recursive: true });
        fs.writeFileSync(path, JSON.stringify({ ...read(), [key]: timing }, null, 1));
      } catch {
        // not kept: the next load measures again
      }
    },
  };
}

export function defaultChoiceCache(): ChoiceCache {
  if (typeof indexedDB !== 'undefined') return indexedDbChoiceCache(indexedDB);
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; cwd(): string } }).process;
  const fs = proc?.getBuiltinModule?.('node:fs') as NodeFs | undefined;
  if (fs && proc) return fileChoiceCache(fs, `${proc.cwd()}/.cache/backend-choice.json`);
  return memoryChoiceCache();
}
