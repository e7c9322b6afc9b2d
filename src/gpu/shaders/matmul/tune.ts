/**
 * The matvec variant chosen by measuring on the adapter it runs on. A kernel class is a weight type and a
 * size bucket ("matvec Q8_0 L"); for each class the first use times every candidate (all of them tested
 * against the CPU reference in matvec-variants.gpu.test.ts) on a matrix of that class, keeps the fastest,
 * and caches the choice per adapter in a TuningStore (IndexedDB in the page, .cache/tuning.json in Node).
 * Without a tuner (tuning off, tests) preferredMatvecVariant stays the choice, so runs are deterministic.
 *
 * Cost: a candidate is timed on at most MEASURE_ROWS rows of the class's K (the time of a matvec grows
 * linearly in N once the adapter is full), in 3 round-robin rounds of one batch each; on lavapipe a class
 * takes a few seconds, mostly shader compiles, once per adapter and driver.
 */
import type { WeightType } from '../common/quant-types.ts';
import type { TuningRecord, TuningStore, AdapterRecords } from '../../tuning/store.ts';
import { adapterKey, sourceHash, type AdapterIdentity } from '../../tuning/adapter-key.ts';
import { preferredMatvecVariant, type MatvecVariant } from './matvec.ts';
import { measureMatvec, type ProbeTiming } from './measure.ts';
import rowsWgsl from './matvec.wgsl?raw';
import perRowWgsl from './matvec-rows.wgsl?raw';
import multiRowWgsl from './matvec-multirow.wgsl?raw';
import ioWgsl from './matvec-io.wgsl?raw';
import { quantizeSource, q8xMatvecCode } from './matvec-q8x.ts';

export interface MatvecCandidate {
  /** shown by the bench and the GPU panel */
  name: string;
  variant: MatvecVariant;
}

export interface AdapterTraits {
  software: boolean;
  hasSubgroups: boolean;
}

/**
 * The variants worth timing on an adapter. Software adapters (a workgroup = SIMD lanes of one CPU
 * thread): one invocation per row in several shapes, and the rows-per-workgroup kernel, which won at
 * 4096² before, and the int8-activation kernel (matvec-q8x.ts: x quantized as llama.cpp does, then
 * integer dot products; it changes the product by the activations' rounding, as llama.cpp's CPU path does;
 * its f32 fallback where it does not apply is the 2-rows-per-invocation kernel). GPUs: rows per workgroup
 * in three shapes (subgroup reduction where present), and two rows per invocation. (8 rows per workgroup
 * with PAIR took minutes to compile on llvmpipe: left out.)
 */
export function matvecCandidates(a: AdapterTraits): MatvecCandidate[] {
  const sg = { subgroups: a.hasSubgroups };
  if (a.software) {
    return [
      { name: 'rows per workgroup', variant: sg },
      { name: 'one invocation per row', variant: { perRow: true, wg: 64 } },
      { name: 'one invocation per row, wg 8', variant: { perRow: true, wg: 8 } },
      { name: 'per row, no early return, wg 8', variant: { perRow: true, wg: 8, uniformX: true } },
      { name: '2 rows per invocation, wg 8', variant: { perRow: true, wg: 8, rowsPerInvocation: 2 } },
      { name: '4 rows per invocation, wg 8', variant: { perRow: true, wg: 8, rowsPerInvocation: 4 } },
      { name: 'x in int8, one invocation per row, wg 8', variant: { q8x: true, wg: 8 } },
    ];
  }
  return [
    { name: 'rows per workgroup', variant: sg },
    { name: 'rows per workgroup, wg 128 × 2 rows', variant: { ...sg, wg: 128, rows: 2 } },
    { name: 'rows per workgroup, wg 256 × 1 row', variant: { ...sg, wg: 256, rows: 1 } },
    { name: '2 rows per invocation, wg 64', variant: { perRow: true, wg: 64, rowsPerInvocation: 2 } },
  ];
}

/** Every candidate any adapter may get (what the variant tests cover). */
export function allMatvecCandidates(): MatvecCandidate[] {
  const seen = new Map<string, MatvecCandidate>();
  for (const software of [true, false])
    for (const hasSubgroups of [true, false]) for (const c of matvecCandidates({ software, hasSubgroups })) seen.set(JSON.stringify(c.variant), c);
  return [...seen.values()];
}

/** Size buckets by weights per matrix (K·N): the best shape moves with how many workgroups there are. */
export function sizeBucket(k: number, n: number): 'S' | 'M' | 'L' {
  const w = k * n;
  return w <= 1024 * 1024 ? 'S' : w <= 2048 * 2048 ? 'M' : 'L';
}

export function matvecClass(type: WeightType, k: number, n: number): string {
  return `matvec ${type} ${sizeBucket(k, n)}`;
}

/** Changes whenever a matvec kernel's text does: part of the cache key, so edited kernels tune again. */
export const MATVEC_KERNELS_VERSION = sourceHash(
  ioWgsl,
  rowsWgsl,
  perRowWgsl,
  multiRowWgsl,
  quantizeSource,
  // the int8 kernel's text is generated: a sample of each type's stands for the generator
  ...(['Q8_0', 'Q4_K'] as const).map((type) => q8xMatvecCode({ type, k: 256, m: 1, wg: 8, pair: true, accumulate: false }, '')),
);

/** Rows a candidate is timed on (fewer than N when N is larger). */
export const MEASURE_ROWS = 2048;

/**
 * The winner of a measurement: the fastest candidate, except that the default keeps its place unless a
 * candidate beats it by more than `margin` (timing noise on shared machines should not flip choices).
 */
export function chooseFastest(ms: Record<string, number>, defaultName: string, margin = 0.05): string {
  let best = defaultName in ms ? defaultName : Object.keys(ms)[0];
  for (const [name, t] of Object.entries(ms)) {
    const bar = best === defaultName ? ms[best] * (1 - margin) : ms[best];
    if (t < bar) best = name;
  }
  return best;
}

export interface MatvecTunerOptions extends AdapterTraits {
  store: TuningStore;
  /** adapterKey(info, driver, MATVEC_KERNELS_VERSION) */
  adapterKey: string;
  candidates?: MatvecCandidate[];
  timing?: ProbeTiming;
  /** rounds over all candidates (default 3), the best of them counting for each */
  rounds?: number;
}

export interface MatvecTuningSummary {
  adapterKey: string;
  where: string;
  classes: {
    kernelClass: string;
    choice: string;
    /** the choice's ms per call, and the default's */
    ms: number;
    defaultName: string;
    defaultMs: number;
    k: number;
    n: number;
    method: 'timestamp' | 'cpu';
    /** every candidate, fastest first */
    all: { name: string; ms: number }[];
  }[];
}

export class MatvecTuner {
  private records: AdapterRecords = {};
  private readonly candidates: MatvecCandidate[];

  private constructor(
    private readonly device: GPUDevice,
    private readonly o: MatvecTunerOptions,
  ) {
    this.candidates = o.candidates ?? matvecCandidates(o);
  }

  /** A tuner with what the store already knows of this adapter. */
  static async open(device: GPUDevice, o: MatvecTunerOptions): Promise<MatvecTuner> {
    const t = new MatvecTuner(device, o);
    t.records = (await o.store.load(o.adapterKey)) ?? {};
    return t;
  }

  private defaultCandidate(k: number, n: number): MatvecCandidate {
    const v = preferredMatvecVariant(this.o, k, n);
    return this.candidates.find((c) => JSON.stringify(c.variant) === JSON.stringify(v)) ?? { name: 'default', variant: v };
  }

  /** The variant for a K×N matrix: the tuned choice of its class when known, else the default. Synchronous. */
  variantFor(type: WeightType, k: number, n: number): MatvecVariant {
    const r = this.records[matvecClass(type, k, n)];
    return this.candidates.find((c) => c.name === r?.choice)?.variant ?? preferredMatvecVariant(this.o, k, n);
  }

  /** The cached record of a class, or a fresh measurement (then stored). */
  async tune(type: WeightType, k: number, n: number): Promise<TuningRecord> {
    const kernelClass = matvecClass(type, k, n);
    const known = this.records[kernelClass];
    if (known && this.candidates.some((c) => c.name === known.choice)) return known;
    const rows = Math.min(n, MEASURE_ROWS);
    const ms: Record<string, number> = {};
    let method: TuningRecord['method'] = 'cpu';
    // Round robin, best of the rounds per candidate: on a shared machine the load drifts during tuning,
    // and timing one candidate's trials back to back would hand the quiet moment to whoever ran then.
    for (let round = 0; round < (this.o.rounds ?? 3); round++) {
      for (const c of this.candidates) {
        const f = await measureMatvec(this.device, { type, k, n: rows, variant: c.variant, reps: 4, trials: 1, ...this.o.timing });
        ms[c.name] = Math.min(ms[c.name] ?? Infinity, f.seconds * 1e3);
        method = f.method;
      }
    }
    const record: TuningRecord = {
      kernelClass,
      choice: chooseFastest(ms, this.defaultCandidate(k, n).name),
      ms,
      k,
      n: rows,
      method,
      at: new Date().toISOString(),
    };
    this.records[kernelClass] = record;
    await this.o.store.save(this.o.adapterKey, this.records);
    return record;
  }

  /** Tunes every class the matrices fall in (the first matrix of a class stands for it). */
  async tuneAll(matrices: { type: WeightType; k: number; n: number }[]): Promise<void> {
    const seen = new Set<string>();
    for (const m of matrices) {
      const cls = matvecClass(m.type, m.k, m.n);
      if (seen.has(cls)) continue;
      seen.add(cls);
      await this.tune(m.type, m.k, m.n);
    }
  }

  /** What the GPU panel and the bench show: per class, the choice against the default. */
  summary(): MatvecTuningSummary {
    const classes = Object.values(this.records).map((r) => {
      const def = this.defaultCandidate(r.k, r.n).name;
      return {
        kernelClass: r.kernelClass,
        choice: r.choice,
        ms: r.ms[r.choice],
        defaultName: def,
        defaultMs: r.ms[def] ?? Number.NaN,
        k: r.k,
        n: r.n,
        method: r.method,
        all: Object.entries(r.ms)
          .map(([name, ms]) => ({ name, ms }))
          .sort((a, b) => a.ms - b.ms),
      };
    });
    return { adapterKey: this.o.adapterKey, where: this.o.store.where, classes: classes.sort((a, b) => a.kernelClass.localeCompare(b.kernelClass)) };
  }
}

/**
 * The engine's entry point: a tuner for this adapter over `store` (nodeFileStore() in Node,
 * indexedDbStore() in the page), keyed by the adapter, `driver` (e.g. the browser or Dawn version) and
 * the kernels' version. Then `await tuner.tuneAll(matrices)` at load and `tuner.variantFor(...)` per matrix.
 */
export function openMatvecTuner(
  device: GPUDevice,
  info: AdapterIdentity & { software?: boolean; hasSubgroups: boolean },
  store: TuningStore,
  driver = '',
): Promise<MatvecTuner> {
  return MatvecTuner.open(device, {
    store,
    adapterKey: adapterKey(info, driver, MATVEC_KERNELS_VERSION),
    software: info.software === true,
    hasSubgroups: info.hasSubgroups,
  });
}

/** One line per class: "matvec Q8_0 L: tuned: 2 rows per invocation, wg 8, measured 4.1 ms (default … 6.0 ms, 1.46×)". */
export function formatTuningSummary(s: MatvecTuningSummary): string[] {
  return s.classes.map((c) => {
    const vs = c.choice === c.defaultName ? 'the default' : `default ${c.defaultName} ${c.defaultMs.toFixed(2)} ms, ${(c.defaultMs / c.ms).toFixed(2)}×`;
    return `${c.kernelClass}: tuned: ${c.choice}, measured ${c.ms.toFixed(2)} ms on ${c.k}×${c.n} (${vs}; ${c.method})`;
  });
}
