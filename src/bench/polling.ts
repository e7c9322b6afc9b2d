/**
 * How Node waits for the GPU (gpu/node/dawn-polling.ts), side by side: the adapter's copy bandwidth and
 * one matvec timed with Dawn's busy polling and with polite polling, in alternating rounds (best of each),
 * on GPU timestamps where the adapter has them. On a software adapter the busy poller takes a core from the threads that run the
 * shaders; on a hardware GPU the two should match.
 */
import { dawnPolling, setDawnPolling, type DawnPolling } from '../gpu/node/dawn-polling.ts';
import { measureCopy, measureMatvec, type CopyFigure, type ProbeTiming } from '../gpu/shaders/matmul/measure.ts';
import type { MatvecVariant } from '../gpu/shaders/matmul/matvec.ts';
import type { WeightType } from '../gpu/shaders/common/quant-types.ts';

export interface PollingFigure {
  mode: DawnPolling;
  copyGbPerS: number;
  matvecGbPerS: number;
  /** the fastest copy of this mode */
  copy?: CopyFigure;
}

export interface PollingComparison {
  /** the mode the engine runs with on this adapter (node-gpu.ts's choice) */
  engineMode: DawnPolling;
  matvec: { type: WeightType; k: number; n: number; variantName: string };
  busy: PollingFigure;
  polite: PollingFigure;
  rounds: number;
  method: 'timestamp' | 'cpu';
}

export async function comparePolling(
  device: GPUDevice,
  o: { type: WeightType; kn: number; variant: MatvecVariant; variantName: string; copyBytes: number; rounds?: number } & ProbeTiming,
): Promise<PollingComparison> {
  const engineMode = dawnPolling();
  const rounds = o.rounds ?? 2;
  let method: PollingComparison['method'] = 'timestamp';
  const timing = { reps: o.reps, minSeconds: o.minSeconds };
  const best: Record<DawnPolling, PollingFigure> = {
    busy: { mode: 'busy', copyGbPerS: 0, matvecGbPerS: 0 },
    polite: { mode: 'polite', copyGbPerS: 0, matvecGbPerS: 0 },
  };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const mode of ['busy', 'polite'] as const) {
        setDawnPolling(mode);
        const copy = await measureCopy(device, { bytes: o.copyBytes, ...timing });
        const mv = await measureMatvec(device, { type: o.type, k: o.kn, n: o.kn, variant: o.variant, ...timing });
        if (copy.method === 'cpu' || mv.method === 'cpu') method = 'cpu';
        if (copy.gbPerS > best[mode].copyGbPerS) Object.assign(best[mode], { copyGbPerS: copy.gbPerS, copy });
        best[mode].matvecGbPerS = Math.max(best[mode].matvecGbPerS, mv.gbPerS);
      }
    }
  } finally {
    setDawnPolling(engineMode);
  }
  return { engineMode, matvec: { type: o.type, k: o.kn, n: o.kn, variantName: o.variantName }, busy: best.busy, polite: best.polite, rounds, method };
}
