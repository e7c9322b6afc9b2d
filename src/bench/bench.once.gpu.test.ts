/**
 * Smoke test of `npm run bench -- --quick` (tiny sizes): it runs as its own process on the adapter the
 * GPU suite names, and every figure in its JSON must be a finite positive number. No timing thresholds:
 * software adapters on shared machines vary too much; the bench prints its aims, it never asserts them.
 */
import { afterAll, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { matvecCandidates, sizeBucket } from '../gpu/shaders/matmul/tune.ts';
import { READ_PROBE_LAYOUTS } from '../gpu/shaders/read-probe/read-probe.ts';
import type { BenchResult } from './bench.ts';

const dir = mkdtempSync(join(tmpdir(), 'sparsescope-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every measured or computed figure the table prints, by name. */
function figures(r: BenchResult): Record<string, number> {
  const f: Record<string, number> = {
    'copy.gbPerS': r.copy.gbPerS,
    'attention.denseMs': r.attention.denseMs,
    'attention.sparseMs': r.attention.sparseMs,
    'attention.ratio': r.attention.ratio,
    ...Object.fromEntries(Object.entries(r.attention.parts).map(([k, v]) => [`attention.parts.${k}`, v])),
    ...Object.fromEntries(
      Object.entries(r.overhead)
        .filter(([, v]) => typeof v === 'number')
        .map(([k, v]) => [`overhead.${k}`, v as number]),
    ),
    'model.fileBytes': r.model.fileBytes,
    'model.activeFraction': r.model.activeFraction,
    ...Object.fromEntries(Object.entries(r.model.weights).map(([k, v]) => [`model.weights.${k}`, v])),
    'engine.loadSeconds': r.engine.loadSeconds,
    'llama.loadSeconds': r.llama!.loadSeconds,
  };
  for (const x of r.read) Object.assign(f, { [`read.${x.layout}.gbPerS`]: x.gbPerS, [`read.${x.layout}.vsCopy`]: x.vsCopy });
  for (const m of r.matvec)
    Object.assign(f, { [`matvec.${m.type}.gbPerS`]: m.gbPerS, [`matvec.${m.type}.vsCopy`]: m.vsCopy, [`matvec.${m.type}.vsRead`]: m.vsRead });
  for (const m of r.matvecVariants) Object.assign(f, { [`matvec.${m.type}.${m.variantName}.gbPerS`]: m.gbPerS });
  for (const e of r.engine.runs) {
    for (const k of [
      'prefillSeconds',
      'prefillTokPerS',
      'decodeTokPerS',
      'bytesPerToken',
      'decodeGbPerS',
      'decodeVsCopy',
      'overheadSeconds',
      'overheadShare',
    ] as const)
      f[`engine.${e.context}.${e.topK}.${k}`] = e[k];
    // a decoded token issues work and reads its logits back at least once
    for (const k of ['passes', 'submits', 'maps'] as const) f[`engine.${e.context}.${e.topK}.perToken.${k}`] = e.perToken[k];
  }
  for (const l of r.llama!.runs)
    Object.assign(f, { [`llama.${l.context}.prefillTokPerS`]: l.prefillTokPerS, [`llama.${l.context}.decodeTokPerS`]: l.decodeTokPerS });
  return f;
}

it('npm run bench -- --quick writes every figure as a finite positive number', async () => {
  const out = join(dir, 'bench.json');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--import', './scripts/wgsl-register.mjs', 'src/bench/main.ts', '--quick', '--out', out],
    { env: process.env, maxBuffer: 16 * 2 ** 20, timeout: 280_000 },
  );
  expect(stdout).toContain('| figure');
  const r = JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
  expect(r.quick).toBe(true);
  expect(r.size.name).toBe('quick');
  // every timed figure says how it was timed
  // the read ceiling: every layout, fastest first, and each matvec against the fastest
  expect(r.read.length).toBe(READ_PROBE_LAYOUTS.length);
  for (let i = 1; i < r.read.length; i++) expect(r.read[i].gbPerS).toBeLessThanOrEqual(r.read[i - 1].gbPerS);
  for (const m of r.matvecVariants) expect(m.vsRead).toBeCloseTo(m.gbPerS / r.read[0].gbPerS, 9);
  for (const m of [r.copy.method, ...r.read.map((x) => x.method), ...r.matvec.map((x) => x.method), r.attention.method, r.overhead.method])
    expect(['timestamp', 'cpu']).toContain(m);
  if (process.env.SPARSESCOPE_ADAPTER && process.env.SPARSESCOPE_ADAPTER !== 'system') expect(r.adapter.name.length).toBeGreaterThan(0);
  expect(r.matvec.map((m) => m.type)).toEqual(['Q4_K', 'Q8_0']);
  // every tuner candidate side by side, exactly one per type marked as the default and one as tuned
  for (const type of ['Q4_K', 'Q8_0']) {
    expect(r.matvecVariants.filter((m) => m.type === type && m.engine).length).toBe(1);
    expect(r.matvecVariants.filter((m) => m.type === type && m.tuned).length).toBe(1);
  }
  expect(r.matvecVariants.length).toBe(2 * matvecCandidates({ software: r.adapter.software, hasSubgroups: r.adapter.hasSubgroups }).length);
  expect(r.matvecTuning.classes.map((c) => c.kernelClass).sort()).toEqual(
    ['matvec Q4_K', 'matvec Q8_0'].map((c) => `${c} ${sizeBucket(r.matvecVariants[0].k, r.matvecVariants[0].n)}`),
  );
  // dense and DSA at each context, llama.cpp at the same contexts
  const contexts = [...new Set(r.engine.runs.map((e) => e.context))];
  expect(contexts.length).toBeGreaterThanOrEqual(2);
  expect(r.engine.runs.length).toBe(2 * contexts.length);
  expect(r.llama?.runs.map((l) => l.context)).toEqual(contexts);
  // the per-layer count covers every layer, and with the embedding and head it is what the counted token
  // (a feed: logits read back, no sampler) dispatched, counted the other way (wrapping the device)
  for (const e of r.engine.runs) {
    expect(e.perLayer.layers.length).toBe(r.model.dims.layers);
    expect(e.perLayer.layers.reduce((a, b) => a + b, 0) + e.perLayer.outside).toBe(e.perToken.dispatches);
  }
  const bad = Object.entries(figures(r)).filter(([, v]) => !(typeof v === 'number' && Number.isFinite(v) && v > 0));
  expect(bad).toEqual([]);
}, 300_000);
