/**
 * node --import tsx src/bench/cpu-main.ts [--model <gguf>] [--threads 1,2] [--kernels ts,simd] [--prompt 64] [--decode 16] [--no-f32]
 * The CPU backend (CpuModel: quantized blocks, row pool, chunked prefill), with its TypeScript and its
 * WebAssembly SIMD decode dots, against the old CPU path
 * (the reference forward over f32-dequantized weights, one thread, token by token) on the same file,
 * measured side by side in one process: prefill and decode tok/s, and their ratios to the f32 path.
 * Default model: the browser bench's ~100 MB Q8_0 deepseek2 file (embd 768, 8 layers, 8 experts,
 * vocab 4000; q8-bench-model.ts), written to bench-results/models/ on first use (git-ignored).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { openGguf } from '../gguf/reader.ts';
import { readModelConfig } from '../model/config.ts';
import { ReferenceModel } from '../model/reference/forward.ts';
import { loadReferenceModelData } from '../model/reference/weights.ts';
import { ensureQ8BenchModel } from './q8-bench-model.ts';
import { CpuModel } from '../engine/cpu/cpu-model.ts';

const args = process.argv.slice(2);
const value = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const modelPath = value('--model') ? resolve(value('--model')!) : await ensureQ8BenchModel((m: string) => console.error(`[cpu-bench] ${m}`));
const threads = (value('--threads') ?? '1,2').split(',').map(Number);
const kernels = (value('--kernels') ?? 'ts,simd').split(',');
for (const k of kernels) if (k !== 'ts' && k !== 'simd') throw new Error(`--kernels ${k}: expected ts and/or simd`);
const promptLen = Number(value('--prompt') ?? 64);
const decodeLen = Number(value('--decode') ?? 16);
const withF32 = !args.includes('--no-f32');

if (!existsSync(modelPath)) throw new Error(`no such model: ${modelPath}`);
const file = await openGguf({ kind: 'path', path: modelPath });
const vocab = readModelConfig(file.metadata, file.tensors).vocab;
const prompt = Array.from({ length: promptLen }, (_, i) => (i * 37 + 11) % (vocab - 2));
const next = (i: number) => (i * 53 + 7) % (vocab - 2);

/** tok/s by the wall clock, and tokens per CPU-second of the whole process (all threads): on a busy machine the wall clock measures the neighbours too */
interface Row {
  name: string;
  prefill: number;
  decode: number;
  prefillCpu: number;
  decodeCpu: number;
}
const rows: Row[] = [];
const now = () => performance.now();
const cpu = () => process.cpuUsage();
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
};

if (withF32) {
  const { config, weights } = await loadReferenceModelData(file);
  const s = new ReferenceModel(config, weights).session();
  let t0 = now();
  let c0 = cpu();
  for (const t of prompt) s.step(t);
  const prefill = promptLen / ((now() - t0) / 1000);
  const prefillCpu = promptLen / cpuSeconds(c0);
  t0 = now();
  c0 = cpu();
  for (let i = 0; i < decodeLen; i++) s.step(next(i));
  rows.push({
    name: 'f32 reference (old CPU path), 1 thread',
    prefill,
    decode: decodeLen / ((now() - t0) / 1000),
    prefillCpu,
    decodeCpu: decodeLen / cpuSeconds(c0),
  });
  console.error(`[cpu-bench] ${rows[rows.length - 1].name} done`);
}
// each thread count with the TypeScript kernels and with the WebAssembly SIMD dots (--kernels), side by side
for (const [n, simd] of threads.flatMap((t) => kernels.map((k) => [t, k === 'simd'] as const))) {
  const m = await CpuModel.load(file, { threads: n, contextSize: promptLen + decodeLen + 1, simd });
  if (simd && !m.simd) console.error(`[cpu-bench] no SIMD here: ${m.simdUnavailable}`);
  // warm-up: one short feed in its own session (JIT), then the measured session
  await m.session().feed(prompt.slice(0, 8));
  const s2 = m.session();
  let t0 = now();
  let c0 = cpu();
  await s2.feed(prompt);
  const prefill = promptLen / ((now() - t0) / 1000);
  const prefillCpu = promptLen / cpuSeconds(c0);
  t0 = now();
  c0 = cpu();
  for (let i = 0; i < decodeLen; i++) await s2.feed([next(i)]);
  rows.push({
    name: `CpuModel, ${m.simd ? 'SIMD' : 'TypeScript'}, ${m.threads} thread${m.threads > 1 ? 's' : ''}`,
    prefill,
    decode: decodeLen / ((now() - t0) / 1000),
    prefillCpu,
    decodeCpu: decodeLen / cpuSeconds(c0),
  });
  m.destroy();
  console.error(`[cpu-bench] ${rows[rows.length - 1].name} done`);
}
await file.close();

const base = rows[0];
console.log(`CPU backend bench — ${modelPath.split('/').pop()} — prompt ${promptLen}, decode ${decodeLen} tokens`);
console.log(
  `${'variant'.padEnd(42)} ${'prefill tok/s'.padStart(14)} ${'decode tok/s'.padStart(13)} ${'prefill ×'.padStart(10)} ${'decode ×'.padStart(9)} ${'prefill tok/CPU-s'.padStart(18)} ${'decode tok/CPU-s'.padStart(17)}`,
);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(42)} ${r.prefill.toFixed(2).padStart(14)} ${r.decode.toFixed(2).padStart(13)} ${(r.prefill / base.prefill).toFixed(2).padStart(10)} ${(r.decode / base.decode).toFixed(2).padStart(9)} ${r.prefillCpu.toFixed(2).padStart(18)} ${r.decodeCpu.toFixed(2).padStart(17)}`,
  );
}
console.log('(× = wall-clock ratio to the first row; tok/CPU-s counts every thread of the process, so it shows what the threads cost, not what they gain)');
process.exit(0);
