/**
 * The parts every forward graph is built from (forward-graph.ts for the MLA families,
 * dense-forward-graph.ts for the dense ones): its buffers and prepared kernels (owned, destroyed
 * together), the steps in order with their (layer, part) tags, and the blocks both architectures
 * share: matvec or tiled matmul by pass size, the residual matvec, projections of one input in one
 * dispatch, RMSNorm on load or as a dispatch, the SwiGLU FFN, the embedding and the output head.
 * Decode (m < MATMUL_MIN_ROWS) fuses into the matvec what would be a dispatch of its own: the RMSNorm
 * of its input (applied on load), the residual add (y += W·x) and an FFN's up projection with its
 * SwiGLU (y = silu(W·x) * (W2·x)).
 */
import { createStorage } from '../../gpu/buffers.ts';
import { inOnePass } from '../../gpu/pass-scope.ts';
import { ScratchPool } from '../../gpu/scratch-pool.ts';
import { isSoftwareAdapter } from '../../gpu/device.ts';
import type { BufferArg } from '../../gpu/pipelines.ts';
import type { PreparedDispatch } from '../../gpu/shaders/add/kernel-util.ts';
import { createAccumulate } from '../../gpu/shaders/add/add.ts';
import { createEmbedding } from '../../gpu/shaders/embedding/embedding.ts';
import { createMatmul } from '../../gpu/shaders/matmul/matmul.ts';
import {
  createGatherMatvec,
  createMatvec,
  createMultiMatvec,
  multiMatvecFits,
  preferredMatvecVariant,
  type MatvecNorm,
  type MatvecVariant,
  type PreparedKernel,
} from '../../gpu/shaders/matmul/matvec.ts';
import type { PreparedAttention } from '../../gpu/shaders/mla/mla.ts';
import type { PreparedStepKernel } from '../../gpu/shaders/dsa/dsa.ts';
import { createRmsnorm } from '../../gpu/shaders/rmsnorm/rmsnorm.ts';
import { createSwiglu } from '../../gpu/shaders/swiglu/swiglu.ts';
import { createRoundActivations, gpuRoundingFor } from '../../gpu/shaders/round-activations/round-activations.ts';
import { createTopk } from '../../gpu/shaders/dsa/dsa.ts';
import { WEIGHT_TYPES } from '../../gpu/shaders/common/quant-types.ts';
import type { GpuTensor } from '../../gpu/shaders/common/tensor.ts';
import type { GpuWeights } from './gpu-weights.ts';

export interface GraphOptions {
  /** Tokens per pass. */
  m: number;
  /** Indexer top-k; 0 = dense attention (deepseek32 only). */
  topK: number;
  /**
   * Oracle top-k (any model): per query and layer, attention over the k positions of largest dense attention
   * weight summed over heads (a dense pass for the weights, their top-k, then sparse attention); 0 / absent = off.
   * On deepseek32 it replaces the indexer's picks in the attention (the indexer still runs, for the trace).
   */
  oracleTopK?: number;
  /** Keep per-layer trace buffers (index scores, chosen positions, dense weights, router). */
  trace: boolean;
  /** Cache rows. */
  capacity: number;
  /** The decode matvec's variant for every matrix; default each matrix's preferred one on the adapter (preferredMatvecVariant). */
  matvec?: MatvecVariant;
  /** Otherwise each matrix's variant from this (the tuner's verdict, WebGpuModel); undefined: the adapter's default. */
  variantFor?: (t: GpuTensor) => MatvecVariant | undefined;
  /**
   * Decode: apply each RMSNorm in its consumer matvecs (MatvecArgs.norm) instead of a dispatch of its own.
   * Default: on hardware GPUs only. Software adapters are compute-bound and every output row would redo the
   * norm: on lavapipe the bench model's decode took 4.5 ms a token with it and 2.8 ms without (min of 75 steps).
   */
  normOnLoad?: boolean;
  /**
   * Round each quantized matmul's input as llama.cpp's CPU matmuls do (Q8_K blocks for K-quant weights, Q8_0
   * for Q4_0…Q8_0: round-activations.wgsl), so a quantized model computes what llama.cpp computes. It costs
   * a dispatch per rounded input and keeps the norm out of the matvec. Default off; WebGpuModel turns it on
   * for the dense families.
   */
  roundActivations?: boolean;
}

/** Per-layer buffers a trace reads back, in the layouts the kernels write. */
export interface LayerTraceBuffers {
  scores?: GPUBuffer; // f32 [m, capacity]
  chosen?: GPUBuffer; // u32 [m, topK]
  dense: GPUBuffer; // f32 [m, capacity]: dense attention probabilities summed over heads
  probs?: GPUBuffer; // f32 [m, X]
  experts?: GPUBuffer; // u32 [m, k]
  expertWeights?: GPUBuffer; // f32 [m, k]
  oracle?: GPUBuffer; // u32 [m, oracleTopK]: the oracle's picks, ascending (NO_POSITION-padded)
}

/**
 * Which part of the pass a step belongs to, for per-layer timing: `attn` is the attention block's
 * norm, projections, RoPE and cache writes; `indexer` the DSA lightning indexer (projections, scores,
 * top-k); `attention` the attention core over the cache (sparse or dense); `ffn` the FFN block.
 */
export type StepPart = 'embed' | 'attn' | 'indexer' | 'attention' | 'ffn' | 'head';

export interface GraphStep {
  run: (enc: GPUCommandEncoder, pos: number) => void;
  /** -1 for the embedding and the output head. */
  layer: number;
  part: StepPart;
}

/** What WebGpuModel, its sessions and the pass timer use of a graph, whatever the architecture. */
export interface GpuForwardGraph {
  readonly o: GraphOptions;
  readonly ids: GPUBuffer; // u32 [m] token ids
  readonly logits: GPUBuffer; // f32 [m, V]
  readonly traces: LayerTraceBuffers[];
  /** The pass in order, each step tagged with its layer and part (see StepPart). */
  readonly steps: GraphStep[];
  encode(enc: GPUCommandEncoder, pos: number): void;
  destroy(): void;
}

type Disposable = PreparedKernel | PreparedAttention | PreparedStepKernel | PreparedDispatch<number> | PreparedDispatch;

/** Above this many tokens a pass uses the tiled matmul (each weight block read once per tile of rows). */
export const MATMUL_MIN_ROWS = 8;

/** A matvec input: rows x, RMSNorm'ed on load when `norm` is set (decode only). */
export type MatvecInput = { x: GPUBuffer; norm?: MatvecNorm };

/** [m, N_j] blocks of one buffer, block j at f32 offsets[j] (a multiple of the storage offset alignment). */
export interface Blocks {
  buffer: GPUBuffer;
  offsets: number[];
  slices: GPUBufferBinding[];
}

export class GraphBuilder implements Omit<GpuForwardGraph, 'encode' | 'destroy' | 'o'> {
  readonly ids: GPUBuffer;
  readonly logits: GPUBuffer;
  readonly traces: LayerTraceBuffers[] = [];
  readonly steps: GraphStep[] = [];
  /** Working buffers the layers share (they run one after another): the attention partials. */
  readonly scratch: ScratchPool;
  /** Every step is recorded under the current tag (layer, part); set it before pushing. */
  readonly tag: { layer: number; part: StepPart } = { layer: -1, part: 'embed' };
  /** Decode: fuse norms, residual adds and SwiGLU into the matvecs (see the file's comment). */
  readonly fuse: boolean;
  readonly normOnLoad: boolean;
  private readonly owned: GPUBuffer[] = [];
  private readonly prepared: Disposable[] = [];
  private readonly traits: { software: boolean; hasSubgroups: boolean };

  constructor(
    readonly device: GPUDevice,
    readonly w: GpuWeights,
    readonly o: GraphOptions,
    /** the model's RMSNorm epsilon, residual width E and vocab V */
    private readonly shape: { rmsEps: number; embd: number; vocab: number },
  ) {
    this.scratch = new ScratchPool(device);
    this.traits = { software: isSoftwareAdapter(device.adapterInfo), hasSubgroups: device.features.has('subgroups') };
    this.fuse = o.m < MATMUL_MIN_ROWS;
    this.normOnLoad = o.normOnLoad ?? !this.traits.software;
    this.ids = this.own(device.createBuffer({ label: 'ids', size: Math.max(16, o.m * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST }));
    this.logits = this.buf(o.m * shape.vocab, 'logits');
  }

  /** An owned f32 storage buffer of `floats` values. */
  buf(floats: number, label: string): GPUBuffer {
    return this.own(createStorage(this.device, floats * 4, label));
  }

  /** [m, N_j] blocks of one buffer: the first at offset 0 (it binds as the whole buffer), the others as aligned ranges. */
  blocks(label: string, widths: number[]): Blocks {
    const { m } = this.o;
    const align = this.device.limits.minStorageBufferOffsetAlignment;
    const offsets: number[] = [];
    let bytes = 0;
    for (const n of widths) {
      offsets.push(bytes / 4);
      bytes = Math.ceil((bytes + m * n * 4) / align) * align;
    }
    const buffer = this.own(createStorage(this.device, bytes, label));
    return { buffer, offsets, slices: widths.map((n, j): GPUBufferBinding => ({ buffer, offset: offsets[j] * 4, size: m * n * 4 })) };
  }

  own(b: GPUBuffer): GPUBuffer {
    this.owned.push(b);
    return b;
  }

  keep<T extends Disposable>(p: T): T {
    this.prepared.push(p);
    return p;
  }

  push(...runs: GraphStep['run'][]): void {
    runs.forEach((run) => this.steps.push({ run, layer: this.tag.layer, part: this.tag.part }));
  }

  /** One expert's or one matrix's K×N: the forced variant, the tuner's, else the adapter's default. */
  variantFor(t: GpuTensor): MatvecVariant {
    return this.o.matvec ?? this.o.variantFor?.(t) ?? preferredMatvecVariant(this.traits, t.shape[0], t.shape[1] ?? 1);
  }

  gather(a: Parameters<typeof createGatherMatvec>[1]): PreparedKernel {
    return this.keep(createGatherMatvec(this.device, a, this.variantFor(a.w)));
  }

  accumulate(a: Parameters<typeof createAccumulate>[1]) {
    return this.keep(createAccumulate(this.device, a));
  }

  swiglu(a: Parameters<typeof createSwiglu>[1]) {
    return this.keep(createSwiglu(this.device, a));
  }

  /** y = W·x: the tiled matmul for a prefill chunk, a matvec in decode. */
  mv(t: GpuTensor, xIn: MatvecInput | GPUBuffer, y: BufferArg): PreparedKernel {
    const { m } = this.o;
    const a = 'x' in xIn ? xIn : { x: xIn };
    return this.keep(
      m >= MATMUL_MIN_ROWS ? createMatmul(this.device, { w: t, x: a.x, y, m }) : createMatvec(this.device, { w: t, ...a, y, m }, this.variantFor(t)),
    );
  }

  /** h += W·x  [m, E]: one accumulating matvec in decode; prefill writes `scratch`, then adds it. */
  mvResidual(t: GpuTensor, xIn: GPUBuffer, h: GPUBuffer, scratch: GPUBuffer): GraphStep['run'] {
    const { m } = this.o;
    if (this.fuse) {
      const k = this.keep(createMatvec(this.device, { w: t, x: xIn, y: h, m, accumulate: true }, this.variantFor(t)));
      return (enc) => k.encode(enc);
    }
    const k = this.mv(t, xIn, scratch);
    const add = this.accumulate({ x: scratch, y: h, rows: m, n: this.shape.embd });
    return (enc) => {
      k.encode(enc);
      add.encode(enc);
    };
  }

  /**
   * Matrices that read xIn, into their blocks of `out`: one dispatch in decode where they fit one
   * (multiMatvecFits: one K, each in one part; types may differ), else one per matrix.
   */
  projections(names: string[], xIn: MatvecInput, out: Blocks): GraphStep['run'][] {
    const ws = names.map((n) => this.w.matrix(n));
    if (this.fuse && multiMatvecFits(ws)) {
      const v =
        this.o.matvec ??
        preferredMatvecVariant(
          this.traits,
          ws[0].shape[0],
          ws.reduce((s, t) => s + t.rows, 0),
        );
      const k = this.keep(createMultiMatvec(this.device, { ws, ...xIn, y: out.buffer, yOffsets: out.offsets, m: this.o.m }, v));
      return [(enc) => k.encode(enc)];
    }
    return ws.map((t, j) => {
      const k = this.mv(t, xIn, out.slices[j]);
      return (enc) => k.encode(enc);
    });
  }

  /**
   * RMSNorm(src) · weight for the matvecs that read it: decode applies it on load, prefill (the tiled
   * matmul reads x as it is) records a norm dispatch into dst here, at the point of the call.
   */
  normed(src: GPUBuffer, weight: string, dst: GPUBuffer, n: number, consumers: string[] = []): MatvecInput {
    const { rmsEps } = this.shape;
    const round = this.roundingFor(consumers);
    if (this.fuse && this.normOnLoad && !round) return { x: src, norm: { weight: this.w.vector(weight), eps: rmsEps } };
    const k = this.keep(createRmsnorm(this.device, { x: src, weight: this.w.vector(weight), y: dst, rows: this.o.m, n, eps: rmsEps }));
    this.push((enc) => k.encode(enc));
    this.roundInput(dst, n, consumers);
    return { x: dst };
  }

  /** The rounding the inputs of these matrices get (GraphOptions.roundActivations), or null. */
  private roundingFor(consumers: string[]) {
    if (!this.o.roundActivations || consumers.length === 0) return null;
    return gpuRoundingFor(consumers.map((name) => WEIGHT_TYPES[this.w.matrix(name).type].ggmlId));
  }

  /** x [m, n], the input of the matrices `consumers`, rounded in place as llama.cpp rounds it (when the graph rounds). */
  roundInput(x: GPUBuffer, n: number, consumers: string[]): void {
    const kind = this.roundingFor(consumers);
    if (!kind) return;
    const k = this.keep(createRoundActivations(this.device, { x, rows: this.o.m, n, kind }));
    this.push((enc) => k.encode(enc));
  }

  /**
   * Decode: y = W · RMSNorm(h) · weight with the norm on load, the normed rows also written to `normed`
   * [m, E] for the later dispatches that read them as plain x (NORM_OUT): the norm and a small matvec (a
   * MoE router's) in one dispatch, none for the norm alone.
   */
  normedMatvec(t: GpuTensor, h: GPUBuffer, weight: string, y: BufferArg, normed: GPUBuffer): PreparedKernel {
    const norm = { weight: this.w.vector(weight), eps: this.shape.rmsEps };
    return this.keep(createMatvec(this.device, { w: t, x: h, y, m: this.o.m, norm, normOut: normed }, this.variantFor(t)));
  }

  /**
   * h += down · (silu(gate · x) * (up · x)): 2 dispatches in decode, 5 in prefill; `up` (reads h through
   * the norm) and `down` (adds to h) apart, so a MoE layer can run every reader of h before any writer.
   * buffers: gate, up, act [m, width] (gate and up unused in decode when the pair fuses), ffnOut [m, E] (prefill).
   */
  swigluFfn(
    names: { gate: string; up: string; down: string },
    xf: MatvecInput,
    width: number,
    b: { h: GPUBuffer; gate: GPUBuffer; up: GPUBuffer; act: GPUBuffer; ffnOut: GPUBuffer },
  ): { up: GraphStep['run']; down: GraphStep['run'] } {
    const [gw, uw] = [this.w.matrix(names.gate), this.w.matrix(names.up)];
    const downMv = this.mvResidual(this.w.matrix(names.down), b.act, b.h, b.ffnOut);
    // act, the down projection's input, rounded first when the graph rounds activations
    const roundAct = this.roundingFor([names.down])
      ? this.keep(createRoundActivations(this.device, { x: b.act, rows: this.o.m, n: width, kind: this.roundingFor([names.down])! }))
      : undefined;
    const down = (enc: GPUCommandEncoder, pos: number) => {
      roundAct?.encode(enc);
      downMv(enc, pos);
    };
    if (this.fuse && pairable(gw, uw)) {
      const gu = this.keep(createMatvec(this.device, { w: gw, w2: uw, ...xf, y: b.act, m: this.o.m }, this.variantFor(gw)));
      return { up: (enc) => gu.encode(enc), down };
    }
    const g = this.mv(gw, xf, b.gate);
    const u = this.mv(uw, xf, b.up);
    const sw = this.swiglu({ gate: b.gate, up: b.up, y: b.act, n: this.o.m * width });
    const up = (enc: GPUCommandEncoder) => {
      g.encode(enc);
      u.encode(enc);
      sw.encode(enc);
    };
    return { up, down };
  }

  /**
   * The oracle's picks for one layer (GraphOptions.oracleTopK = K): a dense attention pass (`dense`, made
   * here over the weights buffer it is given) writes Σ_h p [m, capacity], and their top-K (createTopk, the
   * indexer's selection, ascending) go to idx [m, K], which the layer's attention then reads as its sparse
   * list. The weights are the trace's when tracing (tr.dense), else one buffer all layers share.
   */
  oracle(dense: (weights: GPUBuffer) => PreparedAttention, tr: LayerTraceBuffers | undefined): { idx: GPUBuffer; k: number; run: GraphStep['run'] } {
    const { m, capacity } = this.o;
    const k = this.o.oracleTopK!;
    const weights = tr ? tr.dense : (this.oracleWeights ??= this.buf(m * capacity, 'oracle_weights'));
    const idx = tr
      ? (tr.oracle = this.own(createStorage(this.device, m * k * 4, 'trace.oracle')))
      : (this.oracleIdx ??= this.own(createStorage(this.device, m * k * 4, 'oracle')));
    const pass = this.keep(dense(weights));
    const topk = this.keep(createTopk(this.device, { nq: m, k, scores: weights, scoreStride: capacity, idx }));
    return {
      idx,
      k,
      run: (enc, pos) => {
        pass.encode(enc, { nKv: pos + m, qPos0: pos });
        topk.encode(enc, { nKv: pos + m, qPos0: pos });
      },
    };
  }
  private oracleWeights: GPUBuffer | undefined;
  private oracleIdx: GPUBuffer | undefined;

  /** h = token_embd[ids]  [m, E] */
  embed(h: GPUBuffer): void {
    this.tag.layer = -1;
    this.tag.part = 'embed';
    const k = this.keep(createEmbedding(this.device, { table: this.w.matrix('token_embd.weight'), ids: this.ids, out: h, tokens: this.o.m }));
    this.push((enc) => k.encode(enc));
  }

  /** logits = output · RMSNorm(h) · output_norm  [m, V] (output = token_embd when tied) */
  head(h: GPUBuffer, x: GPUBuffer, tiedOutput: boolean): void {
    this.tag.layer = -1;
    this.tag.part = 'head';
    const outName = tiedOutput ? 'token_embd.weight' : 'output.weight';
    const k = this.mv(this.w.matrix(outName), this.normed(h, 'output_norm.weight', x, this.shape.embd, [outName]), this.logits);
    this.push((enc) => k.encode(enc));
  }

  /**
   * Records the pass for tokens at positions pos..pos+m-1 (ids must already be in `ids`), every kernel in
   * one compute pass (src/gpu/pass-scope.ts; a trace's clears split it). The pass timer runs the steps
   * one by one instead, to put timestamps between them.
   */
  encode(enc: GPUCommandEncoder, pos: number): void {
    inOnePass(enc, `forward m=${this.o.m}`, () => {
      for (const s of this.steps) s.run(enc, pos);
    });
  }

  destroy(): void {
    this.prepared.forEach((p) => p.destroy?.());
    this.owned.forEach((b) => b.destroy());
    this.scratch.destroy();
  }
}

/** A graph over its builder: what WebGpuModel uses of it (GpuForwardGraph), whatever the architecture built. */
export abstract class BuiltGraph implements GpuForwardGraph {
  protected constructor(
    protected readonly b: GraphBuilder,
    readonly o: GraphOptions,
  ) {}

  get ids(): GPUBuffer {
    return this.b.ids;
  }
  get logits(): GPUBuffer {
    return this.b.logits;
  }
  get traces(): LayerTraceBuffers[] {
    return this.b.traces;
  }
  get steps(): GraphStep[] {
    return this.b.steps;
  }

  encode(enc: GPUCommandEncoder, pos: number): void {
    this.b.encode(enc, pos);
  }

  destroy(): void {
    this.b.destroy();
  }
}

/** Two matrices one paired matvec can read (same type, shape and parts): gate and up. */
export function pairable(a: GpuTensor, b: GpuTensor): boolean {
  return (
    a.type === b.type &&
    a.shape.join() === b.shape.join() &&
    a.parts.length === b.parts.length &&
    a.parts.every((p, i) => p.rowStart === b.parts[i].rowStart && p.rowCount === b.parts[i].rowCount)
  );
}
