/** The printed table: one row per figure, every figure from the same run. */
import type { BenchResult } from './bench.ts';

const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;
const ctxName = (n: number) => (n >= 1024 && n % 1024 === 0 ? `${n / 1024}K` : String(n));

export function formatTable(r: BenchResult): string {
  const rows: [string, string, string][] = [];
  const add = (what: string, value: string, note = '') => rows.push([what, value, note]);
  add('copy bandwidth (read + write)', `${f(r.copy.gbPerS)} GB/s`, `${mb(r.copy.bytes)} buffer`);
  for (const m of r.matvec) {
    add(`${m.type} matvec ${m.k}×${m.n}`, `${f(m.gbPerS)} GB/s = ${f(m.vsCopy)} × copy`, 'aim ≥ 0.70 × copy');
  }
  const a = r.attention;
  add(
    `attention/token, ctx ${ctxName(a.options.context)}, top-k ${a.options.topK}`,
    `dense ${f(a.denseMs)} ms, DSA ${f(a.sparseMs)} ms = ${f(a.ratio, 3)} × dense`,
    `aim ≤ 0.35; parts: score ${f(a.parts.indexerScoreMs)} + top-k ${f(a.parts.topkMs)} + sparse MLA ${f(a.parts.sparseMlaMs)} ms`,
  );
  const w = r.model.weights;
  add('model (generated deepseek32, Q4_K)', `${mb(r.model.fileBytes)} file, ${mb(w.total)} weights`, `embd ${r.model.dims.embd}, ${r.model.dims.layers} layers, ${r.model.dims.experts} experts (${r.model.dims.used} + ${r.model.dims.shared} shared); ${r.model.generateSeconds === null ? 'cached' : `generated in ${f(r.model.generateSeconds, 1)} s`}`);
  add('active weight bytes / token', `${mb(w.active)} = ${f(r.model.activeFraction, 3)} of weights`, `routed experts ${mb(w.routedActive)} of ${mb(w.routedTotal)}`);
  add('load (open + upload), WebGPU', `${f(r.engine.loadSeconds)} s`, r.llama ? `llama.cpp ${f(r.llama.loadSeconds)} s` : '');
  for (const run of r.engine.runs) {
    const mode = run.topK ? `DSA top-k ${run.topK}` : 'dense';
    const ll = r.llama?.runs.find((x) => x.context === run.context);
    const dense = r.engine.runs.find((x) => x.context === run.context && x.topK === 0)!;
    add(`prefill ${ctxName(run.context)} tok, ${mode}`, `${f(run.prefillTokPerS, 1)} tok/s`, [run.topK ? `${f(run.prefillTokPerS / dense.prefillTokPerS)} × dense` : '', run.topK === 0 && ll ? `llama.cpp ${f(ll.prefillTokPerS, 1)} tok/s (WebGPU ${f(run.prefillTokPerS / ll.prefillTokPerS)} ×)` : ''].filter(Boolean).join('; '));
    add(
      `decode at ${ctxName(run.context)}, ${mode}`,
      `${f(run.decodeTokPerS)} tok/s; ${mb(run.bytesPerToken)}/tok → ${f(run.decodeGbPerS, 3)} GB/s = ${f(run.decodeVsCopy, 3)} × copy`,
      [run.topK ? `${f(run.decodeTokPerS / dense.decodeTokPerS)} × dense` : '', run.topK === 0 && ll ? `llama.cpp ${f(ll.decodeTokPerS)} tok/s (WebGPU ${f(run.decodeTokPerS / ll.decodeTokPerS)} ×)` : ''].filter(Boolean).join('; '),
    );
  }
  const head: [string, string, string] = ['figure', 'value', 'side by side / aim'];
  const all = [head, ...rows];
  const wid = [0, 1, 2].map((i) => Math.max(...all.map((row) => row[i].length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(wid[i])).join(' | ')} |`;
  return [line(head), `|${wid.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
