/** The printed table: one row per figure, every figure from the same run. */
import type { BenchResult } from './bench.ts';

const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;
const ctxName = (n: number) => (n >= 1024 && n % 1024 === 0 ? `${n / 1024}K` : String(n));

export function formatTable(r: BenchResult): string {
  const rows: [string, string, string][] = [];
  const add = (what: string, value: string, note = '') => rows.push([what, value, note]);
  const how = (m: string) => (m === 'timestamp' ? 'GPU timestamps' : 'CPU clock');
  const c = r.copy;
  const runs =
    r.copyRuns?.length > 1
      ? `best of ${r.copyRuns.length} (${r.copyRuns.map((g) => f(g)).join(', ')} GB/s: before and after the kernels, and in the polling row); `
      : '';
  add('copy bandwidth (read + write traffic)', `${f(c.gbPerS)} GB/s`, `${runs}${mb(c.bytes)} buffer, ${c.reps} copies per submit, ${how(c.method)}`);
  const best = r.read[0];
  add(
    'read ceiling (a kernel that only reads)',
    `${f(best.gbPerS)} GB/s = ${f(best.vsCopy)} × copy`,
    `fastest of ${r.read.length} layouts: ${best.layout}${
      r.read.length > 1
        ? ` (next ${r.read
            .slice(1)
            .map((x) => f(x.gbPerS))
            .join(', ')} GB/s)`
        : ''
    }; ${mb(best.bytes)}, ${best.reps} per submit, ${how(best.method)}`,
  );
  // hardware: the share of bandwidth the best decode kernels reach. Software adapters: 0.30 × copy, which no
  // kernel can meet where a shader that only reads stays below it (that ceiling moves with the machine)
  const matvecAim = r.adapter.software
    ? `aim ≥ 0.30 × copy on a software adapter (${best.vsCopy >= 0.3 ? 'within' : 'above'} the read ceiling here, ${f(best.vsCopy)} × copy)`
    : 'aim ≥ 0.70 × copy';
  for (const m of r.matvecVariants) {
    const set = m.copies > 1 ? `, ${m.copies} weight copies rotated (${mb(m.copies * m.bytes)})` : '';
    const engine = r.matvec.find((e) => e.type === m.type);
    const side = [m.engine ? 'the default' : engine ? `= ${f(m.gbPerS / engine.gbPerS)} × the default` : '', m.tuned ? 'TUNED (the tuner chose it)' : '']
      .filter(Boolean)
      .join(', ');
    add(
      `${m.type} matvec ${m.k}×${m.n}, ${m.variantName}${m.tuned ? ' ★' : ''}`,
      `${f(m.gbPerS)} GB/s = ${f(m.vsCopy)} × copy = ${f(m.vsRead)} × read`,
      `${side}; ${matvecAim}; ${m.reps} per submit${set}, ${how(m.method)}`,
    );
  }
  for (const t of r.matvecTuning?.classes ?? []) {
    const vs = t.choice === t.defaultName ? 'the default' : `${f(t.defaultMs / t.ms)} × the default (${t.defaultName}, ${f(t.defaultMs)} ms)`;
    add(`${t.kernelClass} (tuner)`, `tuned: ${t.choice}, measured ${f(t.ms)} ms`, `${vs}; on ${t.k}×${t.n}, ${t.all.length} candidates, ${how(t.method)}`);
  }
  const pl = r.polling;
  if (pl) {
    const which = (m: string) => (m === pl.engineMode ? `${m} (the engine's here)` : m);
    add(
      "Node's GPU wait: polite against busy polling",
      `polite: copy ${f(pl.polite.copyGbPerS)} GB/s, matvec ${f(pl.polite.matvecGbPerS)} GB/s`,
      `= ${f(pl.polite.copyGbPerS / pl.busy.copyGbPerS)} × and ${f(pl.polite.matvecGbPerS / pl.busy.matvecGbPerS)} × busy (copy ${f(pl.busy.copyGbPerS)}, matvec ${f(pl.busy.matvecGbPerS)} GB/s); ${which('polite')} vs ${which('busy')}; ${pl.matvec.type} ${pl.matvec.k}×${pl.matvec.n} ${pl.matvec.variantName}, best of ${pl.rounds} alternating rounds, ${how(pl.method)}`,
    );
  }
  const a = r.attention;
  const layers = a.options.layers > 1 ? `, ${a.options.layers} layer caches rotated` : '';
  add(
    `attention/token, ctx ${ctxName(a.options.context)}, top-k ${a.options.topK}`,
    `dense ${f(a.denseMs, 3)} ms, DSA ${f(a.sparseMs, 3)} ms = ${f(a.ratio, 3)} × dense`,
    `aim ≤ 0.35; parts: score ${f(a.parts.indexerScoreMs, 3)} + top-k ${f(a.parts.topkMs, 3)} + sparse MLA ${f(a.parts.sparseMlaMs, 3)} ms; ${a.reps} steps per submit${layers}, ${how(a.method)}`,
  );
  const o = r.overhead;
  add(
    'overhead of empty work',
    `dispatch ${f(o.dispatchUs, 1)} µs in a pass, pass ${f(o.passUs, 1)} µs`,
    `${how(o.method)}; submit ${f(o.submitUs, 1)} µs, submit + wait + readback ${f(o.roundTripUs, 1)} µs (CPU clock)`,
  );
  const w = r.model.weights;
  add(
    'model (generated deepseek32, Q4_K)',
    `${mb(r.model.fileBytes)} file, ${mb(w.total)} weights`,
    `embd ${r.model.dims.embd}, ${r.model.dims.layers} layers, ${r.model.dims.experts} experts (${r.model.dims.used} + ${r.model.dims.shared} shared); ${r.model.generateSeconds === null ? 'cached' : `generated in ${f(r.model.generateSeconds, 1)} s`}`,
  );
  add(
    'active weight bytes / token',
    `${mb(w.active)} = ${f(r.model.activeFraction, 3)} of weights`,
    `routed experts ${mb(w.routedActive)} of ${mb(w.routedTotal)}`,
  );
  add(
    'load (open + upload), WebGPU',
    `${f(r.engine.loadSeconds)} s`,
    r.llama ? `llama.cpp ${f(r.llama.loadSeconds)} s (ggml CPU variant ${r.llama.cpuVariant ?? 'unknown'})` : '',
  );
  for (const run of r.engine.runs) {
    const mode = run.topK ? `DSA top-k ${run.topK}` : 'dense';
    const ll = r.llama?.runs.find((x) => x.context === run.context);
    const dense = r.engine.runs.find((x) => x.context === run.context && x.topK === 0)!;
    add(
      `prefill ${ctxName(run.context)} tok, ${mode}`,
      `${f(run.prefillTokPerS, 1)} tok/s`,
      [
        run.topK ? `${f(run.prefillTokPerS / dense.prefillTokPerS)} × dense` : '',
        run.topK === 0 && ll ? `llama.cpp ${f(ll.prefillTokPerS, 1)} tok/s (WebGPU ${f(run.prefillTokPerS / ll.prefillTokPerS)} ×)` : '',
      ]
        .filter(Boolean)
        .join('; '),
    );
    add(
      `decode at ${ctxName(run.context)}, ${mode}`,
      `${f(run.decodeTokPerS)} tok/s; ${mb(run.bytesPerToken)}/tok → ${f(run.decodeGbPerS, 3)} GB/s = ${f(run.decodeVsCopy, 3)} × copy`,
      [
        run.topK ? `${f(run.decodeTokPerS / dense.decodeTokPerS)} × dense` : '',
        run.topK === 0 && ll ? `llama.cpp ${f(ll.decodeTokPerS)} tok/s (WebGPU ${f(run.decodeTokPerS / ll.decodeTokPerS)} ×)` : '',
      ]
        .filter(Boolean)
        .join('; '),
    );
    const p = run.perToken;
    add(
      `  overhead per token at ${ctxName(run.context)}, ${mode}`,
      `${p.dispatches} dispatches (per layer ${perLayerText(run.perLayer)}), ${p.passes} passes, ${p.submits} submits, ${p.maps} readbacks → ≥ ${f(run.overheadSeconds * 1000, 3)} ms`,
      `= ${f(run.overheadShare)} of the measured ${f(1000 / run.decodeTokPerS, 3)} ms/token`,
    );
  }
  const head: [string, string, string] = ['figure', 'value', 'side by side / aim'];
  const all = [head, ...rows];
  const wid = [0, 1, 2].map((i) => Math.max(...all.map((row) => row[i].length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(wid[i])).join(' | ')} |`;
  return [line(head), `|${wid.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** "12 + 16 = 14 average": each layer's dispatches, then their mean, and the embedding + head beside them. */
function perLayerText(l: { layers: number[]; outside: number }): string {
  const mean = l.layers.reduce((a, b) => a + b, 0) / Math.max(1, l.layers.length);
  return `${l.layers.join(' + ')} = ${Number(mean.toFixed(1))} average; embedding + head ${l.outside}`;
}
