/**
 * Where kernel-tuning results live between runs, per adapter: an IndexedDB database in the page
 * (./idb-store.ts), a JSON file under .cache/ in Node (./node-store.ts), memory in tests. A store maps an
 * adapter key (./adapter-key.ts) to that adapter's records, one per kernel class ("matvec Q8_0 L").
 * Stores never throw on a missing or unreadable entry: tuning again is always a valid answer.
 */

/** One tuned kernel class: which candidate won and what every candidate measured. */
export interface TuningRecord {
  /** e.g. "matvec Q8_0 L": kernel, weight type, size bucket */
  kernelClass: string;
  /** the winning candidate's name */
  choice: string;
  /** milliseconds per call, per candidate name, as measured */
  ms: Record<string, number>;
  /** the matrix it was measured on */
  k: number;
  n: number;
  /** GPU timestamps around the batch, or the CPU clock over it */
  method: 'timestamp' | 'cpu';
  /** ISO time of the measurement */
  at: string;
}

export type AdapterRecords = Record<string, TuningRecord>;

export interface TuningStore {
  /** What the store says of `where` ("IndexedDB sparsescope-tuning", ".cache/tuning.json", "memory"). */
  readonly where: string;
  load(adapterKey: string): Promise<AdapterRecords | undefined>;
  save(adapterKey: string, records: AdapterRecords): Promise<void>;
}

/** A store that forgets at exit: tests, and pages without IndexedDB (private windows of some browsers). */
export function memoryStore(): TuningStore {
  const m = new Map<string, AdapterRecords>();
  return {
    where: 'memory',
    load: async (key) => (m.has(key) ? structuredClone(m.get(key)) : undefined),
    save: async (key, records) => void m.set(key, structuredClone(records)),
  };
}

/** Record shape check for what comes back from disk or IndexedDB (written by an older build, or edited). */
export function isTuningRecord(r: unknown): r is TuningRecord {
  if (!r || typeof r !== 'object') return false;
  const o = r as Record<string, unknown>;
  return (
    typeof o.kernelClass === 'string' &&
    typeof o.choice === 'string' &&
    !!o.ms &&
    typeof o.ms === 'object' &&
    typeof o.k === 'number' &&
    typeof o.n === 'number'
  );
}

/** The valid records of a parsed store entry (anything else dropped). */
export function validRecords(v: unknown): AdapterRecords | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const out: AdapterRecords = {};
  for (const [k, r] of Object.entries(v as Record<string, unknown>)) if (isTuningRecord(r) && r.kernelClass === k) out[k] = r;
  return out;
}
