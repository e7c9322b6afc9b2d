/**
 * Dispatcher and CPU reference for read-probe.wgsl: a kernel that only reads, the ceiling of every
 * memory-bound kernel on the adapter (the bench prints each matvec against it as well as against the copy).
 *   W u32 [invocations · PER · 4] (read), O u32 [invocations] (the wrapping sum of each invocation's words)
 */
import type { ParamLayout } from '../../params.ts';
import { getPipeline, type BufferArg } from '../../pipelines.ts';
import { assemble, badArg, grid1d, prepareDispatch, type PreparedDispatch } from '../add/kernel-util.ts';
import source from './read-probe.wgsl?raw';

export const READ_PROBE_PARAMS = [['invocations', 'u32']] as const satisfies ParamLayout;

/** vec4 each invocation reads: 4 KiB, a 4096-wide Q8_0 row's size. */
export const READ_PROBE_PER = 256;

export interface ReadProbeLayout {
  /** one contiguous run per invocation (a matvec's row per invocation), else lanes interleaved */
  rows: boolean;
  wg: number;
}

/** The layouts the bench tries: what suits software adapters (rows, small groups) and GPUs (coalesced). */
export const READ_PROBE_LAYOUTS: readonly ReadProbeLayout[] = [
  { rows: true, wg: 8 },
  { rows: true, wg: 64 },
  { rows: false, wg: 16 },
  { rows: false, wg: 256 },
];

export function readProbeName(l: ReadProbeLayout): string {
  return `${l.rows ? 'a run per invocation' : 'interleaved'}, wg ${l.wg}`;
}

export function readProbeCode(l: ReadProbeLayout): string {
  return assemble(source, READ_PROBE_PARAMS, { WG: l.wg, PER: READ_PROBE_PER, ROWS: l.rows });
}

/** What the kernel writes: per invocation the wrapping sum of the u32 words it reads. */
export function readProbeRef(w: Uint32Array, invocations: number, l: ReadProbeLayout): Uint32Array {
  const out = new Uint32Array(invocations);
  const per = READ_PROBE_PER;
  for (let i = 0; i < invocations; i++) {
    const g = Math.floor(i / l.wg);
    const lane = i % l.wg;
    let s = 0;
    for (let j = 0; j < per; j++) {
      const v = l.rows ? i * per + j : g * per * l.wg + j * l.wg + lane;
      for (let c = 0; c < 4; c++) s = (s + w[4 * v + c]) >>> 0;
    }
    out[i] = s;
  }
  return out;
}

export interface ReadProbeArgs {
  w: BufferArg;
  out: BufferArg;
  /** a multiple of the layout's wg (the interleaved layout reads whole workgroups) */
  invocations: number;
  layout: ReadProbeLayout;
}

export function createReadProbe(device: GPUDevice, a: ReadProbeArgs): PreparedDispatch {
  const { layout: l, invocations } = a;
  if (invocations <= 0 || invocations % l.wg !== 0) throw badArg(`read-probe: ${invocations} invocations are not whole workgroups of ${l.wg}`);
  const pipeline = getPipeline(device, { kernel: 'read-probe', variant: { rows: l.rows, wg: l.wg } }, () => readProbeCode(l));
  return prepareDispatch(device, {
    pipeline,
    layout: READ_PROBE_PARAMS,
    values: { invocations },
    buffers: [a.w, a.out],
    grid: grid1d(device, invocations / l.wg),
    label: `read-probe:${readProbeName(l)}`,
  });
}
