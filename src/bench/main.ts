/**
 * npm run bench [-- --quick] [--size small|large] [--no-llama] [--out <file>] [--contexts 256,1024] [--decode 16] [--threads 1] [--no-cache]
 * --size: small (software-adapter sizes) or large (hardware-GPU sizes); default by the adapter found.
 * The generated model is kept in <out dir>/models/ and reused (--no-cache: a fresh one in a temp dir).
 * Prints the table and writes the JSON (default bench-results/bench.json, git-ignored).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { runBench } from './bench.ts';
import { formatTable } from './format.ts';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const out = resolve(value('--out') ?? 'bench-results/bench.json');
const contexts = value('--contexts')?.split(',').map(Number);
const size = value('--size');
if (size !== undefined && size !== 'small' && size !== 'large') {
  console.error(`--size takes small or large, not ${size}`);
  process.exit(2);
}
const started = performance.now();
const result = await runBench({
  quick: flag('--quick'),
  size,
  noLlama: flag('--no-llama'),
  contexts,
  decode: value('--decode') ? Number(value('--decode')) : undefined,
  threads: value('--threads') ? Number(value('--threads')) : undefined,
  cacheDir: flag('--no-cache') ? undefined : join(dirname(out), 'models'),
  log: (l) => console.error(`[bench] ${l}`),
});
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `SparseScope bench — ${result.date} — adapter: ${result.adapter.name}${result.quick ? ' — QUICK (tiny sizes)' : ` — ${result.size.name} sizes (${result.size.reason})`}`,
);
console.log(formatTable(result));
for (const n of result.notes) console.log(`note: ${n}`);
console.log(`JSON: ${out} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
// Dawn keeps the process alive otherwise
process.exit(0);
