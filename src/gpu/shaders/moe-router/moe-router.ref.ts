/**
 * CPU reference of the MoE router kernel: the model reference's own router (src/model/reference/moe.ts,
 * itself checked against llama.cpp), called with the kernel's options. One token:
 *   probs = gating(logits) [X]; select = probs + bias; groups keep the best `groupsUsed` by the sum of
 *   their top two; experts = top-k of select [k]; weights = probs[experts] (normalised, scaled) [k].
 */
import { route } from '../../../model/reference/moe.ts';
import type { GatingFunc } from '../../../model/config.ts';

export type { GatingFunc };

export interface RouterOptions {
  gating: GatingFunc;
  topK: number;
  groupCount: number;
  groupsUsed: number;
  normalize: boolean;
  scale: number;
}

export interface RouterResult {
  probs: Float32Array; // [X]
  experts: Int32Array; // [k]
  weights: Float32Array; // [k]
}

export function routeRef(logits: Float32Array, bias: Float32Array | undefined, o: RouterOptions): RouterResult {
  const r = route(
    {
      experts: logits.length,
      used: o.topK,
      shared: 0,
      ffx: 0,
      groups: o.groupCount,
      groupsUsed: o.groupsUsed,
      gating: o.gating,
      weightsNorm: o.normalize,
      weightsScale: o.scale,
      selectionBias: bias !== undefined,
    },
    logits,
    bias ?? null,
  );
  return { probs: r.probs, experts: Int32Array.from(r.experts), weights: Float32Array.from(r.weights) };
}
