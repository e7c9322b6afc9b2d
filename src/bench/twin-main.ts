/**
 * npm run bench:twins [-- --twin name:mix[:layers=N][:experts=N][:vocab=N] ...] [--prompt 64] [--decode 32]
 *   [--cache <dir>] [--out <file>]
 * Decode on real models' shapes against the adapter's copy bandwidth (twin-bench.ts). Without --twin: the
 * V2-Lite-Chat Q4_K_M twin with 8 experts (2.03 GB) and Youtu-LLM-2B Q4_K_M (1.23 GB), sized for a hardware
 * GPU. Twins are written to --cache (default bench-results/models) and reused. Prints the table, writes the JSON
 * (default bench-results/twin-bench.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isSparseScopeError } from '../errors.ts';
import { DEFAULT_TWINS, formatTwinTable, parseTwinSpec, runTwinBench } from './twin-bench.ts';

const args = process.argv.slice(2);
const values = (name: string) => args.flatMap((a, i) => (a === name && i + 1 < args.length ? [args[i + 1]] : []));
const value = (name: string) => values(name).at(-1);
const count = (name: string, fallback: number) => {
  const v = value(name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1) {
    console.error(`${name} takes a positive count, not ${v}`);
    process.exit(2);
  }
  return Number(v);
};

try {
  const out = resolve(value('--out') ?? 'bench-results/twin-bench.json');
  const specs = (values('--twin').length ? values('--twin') : DEFAULT_TWINS).map(parseTwinSpec);
  const started = performance.now();
  const result = await runTwinBench({
    specs,
    prompt: count('--prompt', 64),
    decode: count('--decode', 32),
    cacheDir: resolve(value('--cache') ?? join(dirname(out), 'models')),
    log: (l) => console.error(`[twins] ${l}`),
  });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  const { name, description } = result.adapter;
  console.log(`SparseScope twin bench — ${result.date} — adapter: ${name}${description && description !== name ? ` (${description})` : ''}`);
  console.log(formatTwinTable(result));
  console.log(`JSON: ${out} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
} catch (e) {
  console.error(isSparseScopeError(e) ? `error: ${e.message}` : e);
  process.exit(1);
}
// Dawn keeps the process alive otherwise
process.exit(0);
