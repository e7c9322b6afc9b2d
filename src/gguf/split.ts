/**
 * Split GGUF sets, as llama.cpp's gguf-split writes them and llama-model-loader reads them:
 * `<prefix>-00001-of-00003.gguf` … `<prefix>-00003-of-00003.gguf`. Every part is a whole GGUF
 * (header, tensor infos, data); part 1 carries the model's metadata; every part carries
 * `split.no` (u16, 0-based), `split.count` (u16) and `split.tensors.count` (i32, tensors in the set).
 * The names here are browser-safe string work; opening the parts is the reader's job.
 */
import { SparseScopeError } from '../errors.ts';

export const SPLIT_NO = 'split.no';
export const SPLIT_COUNT = 'split.count';
export const SPLIT_TENSORS_COUNT = 'split.tensors.count';

const PART_NAME = /-(\d{5})-of-(\d{5})\.gguf$/;

/** The 1-based part number and part count in a name (path or URL path), or undefined. */
export function parseSplitName(name: string): { prefix: string; part: number; count: number } | undefined {
  const m = PART_NAME.exec(name);
  if (!m) return undefined;
  return { prefix: name.slice(0, m.index), part: Number(m[1]), count: Number(m[2]) };
}

/** `<prefix>-0000i-of-0000N.gguf` for a 1-based part i, as llama_split_path prints it. */
export function splitPartName(prefix: string, part: number, count: number): string {
  const pad = (n: number) => String(n).padStart(5, '0');
  return `${prefix}-${pad(part)}-of-${pad(count)}.gguf`;
}

/**
 * The names of all `count` parts, given part 1's name (a path, or a URL whose query and fragment
 * are kept on every part). Refuses a name that is not `-00001-of-0000N.gguf` with that N.
 */
export function splitPartNames(part1: string, count: number): string[] {
  let head = part1,
    tail = '';
  const q = /[?#]/.exec(part1);
  if (q && /^[a-z][a-z0-9+.-]*:\/\//i.test(part1)) {
    head = part1.slice(0, q.index);
    tail = part1.slice(q.index);
  }
  const parsed = parseSplitName(head);
  if (!parsed || parsed.part !== 1 || parsed.count !== count) {
    throw new SparseScopeError(
      'split-part',
      `${part1}: split.count = ${count} says this is part 1 of a ${count}-part set, so its name must end in ${splitPartName('', 1, count).slice(1)} to find the other parts (llama.cpp names them the same way)`,
    );
  }
  return Array.from({ length: count }, (_, i) => splitPartName(parsed.prefix, i + 1, count) + tail);
}

/** The split keys of one part's metadata; undefined for a file that is not part of a set. */
export function splitKeys(label: string, metadata: Record<string, unknown>): { no: number; count: number; tensors: number | undefined } | undefined {
  const count = metadata[SPLIT_COUNT];
  if (count === undefined) return undefined;
  const no = metadata[SPLIT_NO];
  const tensors = metadata[SPLIT_TENSORS_COUNT];
  const int = (v: unknown) => (typeof v === 'bigint' ? Number(v) : v);
  const c = int(count),
    n = int(no),
    t = int(tensors);
  if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > 0xffff) {
    throw new SparseScopeError('split-part', `${label}: ${SPLIT_COUNT} = ${String(count)} is not a part count in [1, 65535]`);
  }
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= c) {
    throw new SparseScopeError('split-part', `${label}: ${SPLIT_NO} = ${String(no)} is not a part index in [0, ${c - 1}] (split.count = ${c})`);
  }
  if (t !== undefined && (typeof t !== 'number' || !Number.isInteger(t) || t < 0)) {
    throw new SparseScopeError('split-part', `${label}: ${SPLIT_TENSORS_COUNT} = ${String(tensors)} is not a tensor count`);
  }
  return { no: n, count: c, tensors: t as number | undefined };
}
