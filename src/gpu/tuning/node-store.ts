/**
 * The tuning store in Node (CLI, bench): one JSON file, by default .cache/tuning.json under the working
 * directory, holding { [adapterKey]: { [kernelClass]: TuningRecord } }. Written whole after each change
 * (a few kB); a missing or corrupt file reads as empty, so the next run tunes again.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { validRecords, type AdapterRecords, type TuningStore } from './store.ts';

export const DEFAULT_TUNING_FILE = '.cache/tuning.json';

export function nodeFileStore(file = DEFAULT_TUNING_FILE): TuningStore {
  const path = resolve(file);
  const readAll = async (): Promise<Record<string, unknown>> => {
    try {
      const v: unknown = JSON.parse(await readFile(path, 'utf8'));
      return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  };
  return {
    where: file,
    load: async (key) => validRecords((await readAll())[key]),
    save: async (key, records: AdapterRecords) => {
      const all = await readAll();
      all[key] = records;
      await mkdir(dirname(path), { recursive: true });
      // write then rename: a reader never sees half a file
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify(all, null, 2)}\n`);
      await rename(tmp, path);
    },
  };
}
