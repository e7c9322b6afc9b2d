/**
 * The MoE FFN block of the MLA graph (forward-graph.ts): h += Σ_j weight_j · down_j(silu(gate_j · x) * (up_j · x))
 * over the router's top-k experts j, plus the shared experts' SwiGLU FFN, with x = RMSNorm(h) · ffn_norm.
 * A decode step without traces runs it in 3 dispatches (fusedMoeSteps), each kernel's math the reference's:
 *   1. router logits = ffn_gate_inp · RMSNorm(h), the normed x written beside them (NORM_OUT)    [m, X], [m, E]
 *   2. every chosen expert's and the shared expert's silu(gate · x) * (up · x), the router's top-k computed
 *      in the kernel from the logits (ROUTE), the shared expert as one more slot (SHARED)       [m·k + m, ffx | ffs]
 *   3. h += Σ_j weight_j · down_j · act_j + down_shexp · act_shared (COMBINE + ROUTE + SHARED)     [m, E]
 * Otherwise (prefill, traces, or tensors the fused kernels cannot read) the router is its own dispatch
 * writing probs, experts and weights (the traces'), as moeSteps records.
 */
import type { ModelConfig, MoeConfig } from '../../model/config.ts';
import type { RouterOptions } from '../../gpu/shaders/moe-router/moe-router.ref.ts';
import { createMoeRouter } from '../../gpu/shaders/moe-router/moe-router.ts';
import { pairable, type GraphBuilder, type GraphStep, type LayerTraceBuffers, type MatvecInput } from './graph-builder.ts';

/** The scratch a MoE layer uses (shared by all layers). */
export interface MoeBuffers {
  h: GPUBuffer; // [m, E] residual stream
  x: GPUBuffer; // [m, E] normed input
  /** [m, X] router logits (the general form's) */
  rLogits: GPUBuffer;
  eGate: GPUBuffer; // [m·k, ffx]
  eUp: GPUBuffer;
  /** [m·k, ffx] routed activations, then [m, ffx·shared] the shared expert's (fused decode) */
  eAct: GPUBuffer;
  eDown: GPUBuffer; // [m·k, E]
  sharedProbs?: GPUBuffer; // [m, X] (no trace)
  sharedExperts?: GPUBuffer; // [m, k]
  sharedWeights?: GPUBuffer; // [m, k]
  zeroBias: GPUBuffer; // [X] zeros: the router's bias for models without a selection bias
  /** the dense FFN's buffers, for the shared experts when they run apart */
  ffn: { h: GPUBuffer; gate: GPUBuffer; up: GPUBuffer; act: GPUBuffer; ffnOut: GPUBuffer };
}

export function routerOptions(mo: MoeConfig): RouterOptions {
  return {
    gating: mo.gating,
    topK: mo.used,
    groupCount: Math.max(1, mo.groups),
    groupsUsed: Math.max(1, mo.groupsUsed),
    normalize: mo.weightsNorm,
    scale: mo.weightsScale,
  };
}

/**
 * Layer p's router input for ROUTE: [m, X] logits (written each step), then the layer's [X] selection bias
 * (copied once; zeros when it has none), so the kernels read both from one binding. One per layer: the bias differs.
 */
function routerInput(b: GraphBuilder, p: string, m: number, X: number): GPUBuffer {
  const r = b.buf(m * X + X, `${p}router_in`);
  if (b.w.has(`${p}exp_probs_b.bias`)) {
    const enc = b.device.createCommandEncoder({ label: `${p}router bias` });
    enc.copyBufferToBuffer(b.w.vector(`${p}exp_probs_b.bias`), 0, r, m * X * 4, X * 4);
    b.device.queue.submit([enc.finish()]);
  }
  return r;
}

/** Whether layer p's step can run the 3-dispatch form: a decode step, untraced, its experts' gate and up a pair. */
export function canFuseMoe(b: GraphBuilder, p: string, traced: boolean): boolean {
  // the fused gathers bind up to 10 storage buffers (the routed and shared weights, the router's logits and
  // bias, x, y, the normed x): checked on adapters that allow 10 (Chromium's SwiftShader); fewer, the plain path
  const enough = b.device.limits.maxStorageBuffersPerShaderStage >= FUSED_MOE_STORAGE_BUFFERS;
  return enough && b.fuse && !traced && pairable(b.w.matrix(`${p}ffn_gate_exps.weight`), b.w.matrix(`${p}ffn_up_exps.weight`));
}

const FUSED_MOE_STORAGE_BUFFERS = 10;

/** The shared expert's tensors when the fused gathers can read them (a pair, each in one part); else undefined. */
function fusableShared(b: GraphBuilder, p: string, mo: MoeConfig) {
  if (mo.shared === 0) return undefined;
  const [g, u, d] = ['gate', 'up', 'down'].map((n) => b.w.matrix(`${p}ffn_${n}_shexp.weight`));
  return pairable(g, u) && [g, u, d].every((t) => t.parts.length === 1) ? { g, u, d } : undefined;
}

/** The 3-dispatch decode form (see the file's comment); the shared expert in 2 more when the gathers cannot read it. */
export function fusedMoeSteps(b: GraphBuilder, c: ModelConfig, p: string, bufs: MoeBuffers): GraphStep['run'][] {
  const mo = c.moe!;
  const { m } = b.o;
  const [X, k] = [mo.experts, mo.used];
  const w = b.w;
  const rIn = routerInput(b, p, m, X);
  const router = b.normedMatvec(w.matrix(`${p}ffn_gate_inp.weight`), bufs.h, `${p}ffn_norm.weight`, rIn, bufs.x);
  const route = { logits: rIn, biasAt: m * X, experts: X, options: routerOptions(mo) };
  const sh = fusableShared(b, p, mo);
  const sAt = m * k * mo.ffx; // the shared expert's activations follow the routed ones in eAct
  const gateUp = b.gather({
    w: w.matrix(`${p}ffn_gate_exps.weight`),
    w2: w.matrix(`${p}ffn_up_exps.weight`),
    x: bufs.x,
    y: bufs.eAct,
    slots: m * k,
    xDiv: k,
    route,
    shared: sh ? { w: sh.g, w2: sh.u, yAt: sAt } : undefined,
  });
  const down = b.gather({
    w: w.matrix(`${p}ffn_down_exps.weight`),
    x: bufs.eAct,
    y: bufs.h,
    slots: m * k,
    xDiv: 1,
    combine: { terms: k },
    route,
    shared: sh ? { w: sh.d, xAt: sAt } : undefined,
  });
  // h += E-wide down of the shared experts apart when the gathers cannot read them
  const apart =
    mo.shared > 0 && !sh
      ? b.swigluFfn(
          { gate: `${p}ffn_gate_shexp.weight`, up: `${p}ffn_up_shexp.weight`, down: `${p}ffn_down_shexp.weight` },
          { x: bufs.x },
          mo.ffx * mo.shared,
          bufs.ffn,
        )
      : undefined;
  return [
    (enc) => {
      router.encode(enc);
      gateUp.encode(enc);
      apart?.up(enc, 0);
      down.encode(enc);
      apart?.down(enc, 0);
    },
  ];
}

/**
 * The general form: x = RMSNorm(h) (a dispatch or on load), router logits, the router (probs, experts and
 * weights: the trace's buffers when traced), the experts' gate/up (paired, or apart + SwiGLU), their down
 * (decode: COMBINE into h; prefill: per slot, then a weighted accumulate) and the shared experts.
 */
export function moeSteps(b: GraphBuilder, c: ModelConfig, p: string, bufs: MoeBuffers, tr: LayerTraceBuffers | undefined): GraphStep['run'][] {
  const mo = c.moe!;
  const { m } = b.o;
  const [X, k, E] = [mo.experts, mo.used, c.embd];
  const w = b.w;
  const fuse = b.fuse;
  const xf: MatvecInput = b.normed(bufs.h, `${p}ffn_norm.weight`, bufs.x, E);
  const probs = tr ? (tr.probs = b.buf(m * X, `${p}trace.probs`)) : bufs.sharedProbs!;
  const experts = tr ? (tr.experts = b.buf(m * k, `${p}trace.experts`)) : bufs.sharedExperts!;
  const weights = tr ? (tr.expertWeights = b.buf(m * k, `${p}trace.weights`)) : bufs.sharedWeights!;
  const routerMv = b.mv(w.matrix(`${p}ffn_gate_inp.weight`), xf, bufs.rLogits);
  // act_j = silu(gate_j · x) * (up_j · x) for the chosen experts j: one gathered dispatch when the two pair
  const [gew, uew] = [w.matrix(`${p}ffn_gate_exps.weight`), w.matrix(`${p}ffn_up_exps.weight`)];
  const pairExperts = pairable(gew, uew);
  const gux = pairExperts ? b.gather({ w: gew, w2: uew, ids: experts, ...xf, y: bufs.eAct, slots: m * k, xDiv: k }) : undefined;
  const gx = pairExperts ? undefined : b.gather({ w: gew, ids: experts, ...xf, y: bufs.eGate, slots: m * k, xDiv: k });
  const ux = pairExperts ? undefined : b.gather({ w: uew, ids: experts, ...xf, y: bufs.eUp, slots: m * k, xDiv: k });
  // h += Σ_j weight_j · down_j · act_j: decode in one dispatch (COMBINE: each h row loops over its token's
  // k experts), prefill as the per-slot down projections [m·k, E] and a weighted accumulate
  const downW = w.matrix(`${p}ffn_down_exps.weight`);
  const dx = fuse
    ? b.gather({ w: downW, ids: experts, x: bufs.eAct, y: bufs.h, slots: m * k, xDiv: 1, combine: { weights, terms: k } })
    : b.gather({ w: downW, ids: experts, x: bufs.eAct, y: bufs.eDown, slots: m * k, xDiv: 1 });
  const shared =
    mo.shared > 0
      ? b.swigluFfn({ gate: `${p}ffn_gate_shexp.weight`, up: `${p}ffn_up_shexp.weight`, down: `${p}ffn_down_shexp.weight` }, xf, mo.ffx * mo.shared, bufs.ffn)
      : undefined;
  // the router reads the logits buffer's first m·X values, the bias from its own binding
  const bias = w.has(`${p}exp_probs_b.bias`) ? w.vector(`${p}exp_probs_b.bias`) : bufs.zeroBias;
  const router = b.keep(
    createMoeRouter(b.device, {
      logits: bufs.rLogits,
      bias,
      probs,
      experts,
      weights,
      tokens: m,
      nExpert: X,
      options: routerOptions(mo),
    }),
  );
  const eSwiglu = pairExperts ? undefined : b.swiglu({ gate: bufs.eGate, up: bufs.eUp, y: bufs.eAct, n: m * k * mo.ffx });
  const combine = fuse ? undefined : b.accumulate({ x: bufs.eDown, y: bufs.h, rows: m, n: E, terms: k, w: weights });
  return [
    (enc) => {
      routerMv.encode(enc);
      router.encode(enc);
      gux?.encode(enc);
      gx?.encode(enc);
      ux?.encode(enc);
      eSwiglu?.encode(enc);
      shared?.up(enc, 0);
      dx.encode(enc);
      combine?.encode(enc);
      shared?.down(enc, 0);
    },
  ];
}
