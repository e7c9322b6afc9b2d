/**
 * The ~100 MB Q8_0 `deepseek2` file both the CPU bench (cpu-main.ts) and the browser bench
 * (scripts/browser-bench.mjs) run: embd 768, 8 layers (1 dense + 7 MoE), 8 routed experts of which 2 are
 * used + 1 shared, vocab 4,000, random weights (seed 13). Written once into bench-results/models/.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFixture } from '../tools/fixture/fixture.ts';

export const Q8_BENCH_DIMS = {
  embd: 768,
  layers: 8,
  leadingDense: 1,
  heads: 8,
  qLora: 384,
  kvLora: 256,
  nope: 64,
  rope: 32,
  v: 64,
  ffn: 2048,
  experts: 8,
  used: 2,
  shared: 1,
  ffx: 512,
};
export const Q8_BENCH_VOCAB = 4000;

/** Where the file lives (relative to the working directory, the repository root for both benches). */
export const Q8_BENCH_PATH = resolve(join('bench-results', 'models', 'bench-deepseek2-768x8-e8-v4000-q8_0.gguf'));

/** The file's path, writing it first if absent (`log` hears when it is written). */
export async function ensureQ8BenchModel(log: (message: string) => void = () => {}): Promise<string> {
  if (existsSync(Q8_BENCH_PATH)) return Q8_BENCH_PATH;
  mkdirSync(dirname(Q8_BENCH_PATH), { recursive: true });
  log(`writing the bench model ${Q8_BENCH_PATH} (once)…`);
  const tmp = `${Q8_BENCH_PATH}.tmp`;
  await writeFixture(tmp, { arch: 'deepseek2', qtype: 'Q8_0', vocab: Q8_BENCH_VOCAB, dims: Q8_BENCH_DIMS, seed: 13, name: 'sparsescope-browser-bench' });
  renameSync(tmp, Q8_BENCH_PATH);
  return Q8_BENCH_PATH;
}
