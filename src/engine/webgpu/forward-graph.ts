/**
 * One forward pass of M tokens on the GPU (M = 1: a decode step; M > 1: a prefill chunk), recorded
 * into a command encoder: the same math as the CPU reference (src/model/reference/forward.ts), step
 * for step. Built once per (M, top-k, trace) with its scratch buffers, prepared matvecs and attention
 * kernels; `encode` records a step at a given position. Everything stays on the GPU: the router's
 * choices feed the expert matvecs, the indexer's top-k feeds sparse attention, and only the logits
 * (and traces, when asked) are read back by the caller.
 */
import { isMoeLayer, type ModelConfig } from '../../model/config.ts';
import { createStorage, uploadStorage } from '../../gpu/buffers.ts';
import { inOnePass } from '../../gpu/pass-scope.ts';
import { ScratchPool } from '../../gpu/scratch-pool.ts';
import { createRmsnorm } from '../../gpu/shaders/rmsnorm/rmsnorm.ts';
import { createIndexerAppend, createMlaAppend } from '../../gpu/shaders/cache-append/cache-append.ts';
import { createSwiglu } from '../../gpu/shaders/swiglu/swiglu.ts';
import { createAccumulate } from '../../gpu/shaders/add/add.ts';
import { ropeParamsFor } from '../../gpu/shaders/rope/rope.ts';
import type { PreparedDispatch } from '../../gpu/shaders/add/kernel-util.ts';
import {
  createMatvec,
  createGatherMatvec,
  createMultiMatvec,
  multiMatvecFits,
  preferredMatvecVariant,
  type MatvecNorm,
  type MatvecVariant,
  type PreparedKernel,
} from '../../gpu/shaders/matmul/matvec.ts';
import { isSoftwareAdapter } from '../../gpu/device.ts';
import type { BufferArg } from '../../gpu/pipelines.ts';
import { createMatmul } from '../../gpu/shaders/matmul/matmul.ts';
import { createEmbedding } from '../../gpu/shaders/embedding/embedding.ts';
import { createMlaAbsorbed, createMlaLegacy, createCopyRows, type CopyRowsArgs, type PreparedAttention } from '../../gpu/shaders/mla/mla.ts';
import { createIndexerScore, createTopk, type PreparedStepKernel } from '../../gpu/shaders/dsa/dsa.ts';
import { createMoeRouter } from '../../gpu/shaders/moe-router/moe-router.ts';
import type { GpuTensor } from '../../gpu/shaders/common/tensor.ts';
import type { GpuWeights } from './gpu-weights.ts';
import type { LayerCache } from './kv-cache.ts';

export interface GraphOptions {
  /** Tokens per pass. */
  m: number;
  /** Indexer top-k; 0 = dense attention (deepseek32 only). */
  topK: number;
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
}

/** Per-layer buffers a trace reads back, in the layouts the kernels write. */
export interface LayerTraceBuffers {
  scores?: GPUBuffer; // f32 [m, capacity]
  chosen?: GPUBuffer; // u32 [m, topK]
  dense: GPUBuffer; // f32 [m, capacity]: dense attention probabilities summed over heads
  probs?: GPUBuffer; // f32 [m, X]
  experts?: GPUBuffer; // u32 [m, k]
  expertWeights?: GPUBuffer; // f32 [m, k]
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

type Disposable = PreparedKernel | PreparedAttention | PreparedStepKernel | PreparedDispatch<number> | PreparedDispatch;

/** Above this many tokens a pass uses the tiled matmul (each weight block read once per tile of rows). */
const MATMUL_MIN_ROWS = 8;

export class ForwardGraph {
  readonly ids: GPUBuffer; // u32 [m] token ids
  readonly logits: GPUBuffer; // f32 [m, V]
  readonly traces: LayerTraceBuffers[] = [];
  /** The pass in order, each step tagged with its layer and part (see StepPart). */
  readonly steps: GraphStep[] = [];
  private readonly owned: GPUBuffer[] = [];
  /** Working buffers the layers share (they run one after another): the attention partials. */
  private readonly scratch: ScratchPool;
  private readonly prepared: Disposable[] = [];

  constructor(
    private readonly device: GPUDevice,
    private readonly c: ModelConfig,
    private readonly w: GpuWeights,
    private readonly caches: LayerCache[],
    readonly o: GraphOptions,
  ) {
    const { m } = o;
    this.scratch = new ScratchPool(device);
    const { embd: E, heads: H, qkNope: N, qkRope: R, kvLoraRank: L, vHead: Vd } = c;
    const K = N + R;
    const buf = (floats: number, label: string) => this.own(createStorage(device, floats * 4, label));
    // [m, N_j] blocks of one buffer, block j at floats offsets[j] (a multiple of the storage offset alignment)
    const blocks = (label: string, widths: number[]) => {
      const align = device.limits.minStorageBufferOffsetAlignment;
      const offsets: number[] = [];
      let bytes = 0;
      for (const n of widths) {
        offsets.push(bytes / 4);
        bytes = Math.ceil((bytes + m * n * 4) / align) * align;
      }
      const buffer = this.own(createStorage(device, bytes, label));
      return { buffer, offsets, slices: widths.map((n, j): GPUBufferBinding => ({ buffer, offset: offsets[j] * 4, size: m * n * 4 })) };
    };
    this.ids = this.own(device.createBuffer({ label: 'ids', size: Math.max(16, m * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST }));
    this.logits = buf(m * c.vocab, 'logits');

    // Scratch shared by all layers.                                        shapes
    const h = buf(m * E, 'h'); //                                           [m, E] residual stream
    const x = buf(m * E, 'x'); //                                           [m, E] normed input
    const ix = c.indexer;
    const lora = c.qLoraRank > 0;
    // The projections that read one x write blocks of one buffer (blocks(): the first at offset 0, so it
    // binds as the whole buffer; the others as aligned ranges), so a decode step can compute them in one
    // dispatch (createMultiMatvec): x → [q_a | kv_a | k_I | w_I] and cq → [q | q_I].
    const xProj = blocks('x_proj', [...(lora ? [c.qLoraRank] : []), L + R, ...(ix ? [ix.keyLength, ix.heads] : [])]);
    const qa = lora ? xProj.buffer : undefined; //                          [m, q_lora]
    const kva = xProj.slices[lora ? 1 : 0]; //                              [m, kv_lora+rope]
    const kIraw = ix ? xProj.slices[lora ? 2 : 1] : undefined; //           [m, D_I]
    const wI = ix ? xProj.slices[lora ? 3 : 2] : undefined; //              [m, H_I]
    const cq = lora ? buf(m * c.qLoraRank, 'cq') : undefined; //           [m, q_lora] (prefill: the normed q_a)
    const cqProj = lora && ix ? blocks('cq_proj', [H * K, ix.heads * ix.keyLength]) : undefined;
    const q = cqProj ? cqProj.buffer : buf(m * H * K, 'q'); //              [m, H, nope+rope]
    const qI = cqProj?.slices[1]; //                                        [m, H_I, D_I]
    const qPe = buf(m * H * R, 'q_pe'); //                                  [m, H, rope]
    const ckv = buf(m * L, 'ckv'); //                                       [m, kv_lora]
    const kpe = buf(m * R, 'kpe'); //                                       [m, rope]
    const attnO = buf(m * H * Math.max(L, Vd), 'attn_o'); //                [m, H, kv_lora] (absorbed) / [m, H, v] (legacy)
    const oHeads = buf(m * H * Vd, 'o'); //                                      [m, H, v]
    const attnOut = buf(m * E, 'attn_out'); //                              [m, E]
    const ffnOut = buf(m * E, 'ffn_out'); //                                [m, E]
    const denseScratch = buf(m * H * Math.max(L, Vd), 'dense_o'); //        trace-only dense pass output

    // Absorbed: per-head matrices (attn_k_b, attn_v_b) as a gathered matvec with slot j → head j mod H.
    const headIds = this.own(
      uploadStorage(
        device,
        Uint32Array.from({ length: m * H }, (_, j) => j % H),
        'head_ids',
      ),
    );
    const qLat = c.mla === 'absorbed' ? buf(m * H * L, 'q_lat') : undefined; //   [m·H, kv_lora]
    const kvB = c.mla === 'legacy' ? buf(m * H * (N + Vd), 'kv_b') : undefined; // [m, H, nope+v]

    const sparse = !!ix && o.topK > 0;
    const sharedScores = ix && !o.trace ? buf(m * o.capacity, 'index_scores') : undefined;
    const sharedChosen = sparse && !o.trace ? buf(m * o.topK, 'chosen') : undefined;

    const moe = c.moe;
    const X = moe?.experts ?? 0;
    const k = moe?.used ?? 0;
    const sharedW = moe ? moe.ffx * moe.shared : 0;
    const ffMax = Math.max(c.leadingDense > 0 ? c.ffn : 0, sharedW);
    const gate = buf(m * Math.max(ffMax, 1), 'gate'); //                  [m, ff]
    const up = buf(m * Math.max(ffMax, 1), 'up');
    const act = buf(m * Math.max(ffMax, 1), 'act');
    const rLogits = moe ? buf(m * X, 'router_logits') : undefined; //      [m, X]
    const eGate = moe ? buf(m * k * moe.ffx, 'exp_gate') : undefined; //   [m·k, ffx]
    const eUp = moe ? buf(m * k * moe.ffx, 'exp_up') : undefined;
    const eAct = moe ? buf(m * k * moe.ffx, 'exp_act') : undefined;
    const eDown = moe ? buf(m * k * E, 'exp_down') : undefined; //         [m·k, E]
    const zeroBias = moe ? this.own(uploadStorage(device, new Float32Array(X), 'zero_bias')) : undefined;
    const sharedProbs = moe && !o.trace ? buf(m * X, 'router_probs') : undefined;
    const sharedExperts = moe && !o.trace ? buf(m * k, 'experts') : undefined;
    const sharedWeights = moe && !o.trace ? buf(m * k, 'expert_weights') : undefined;

    // Every step is recorded under the current tag (layer, part); set `tag` before pushing.
    const tag: { layer: number; part: StepPart } = { layer: -1, part: 'embed' };
    const push = (...runs: GraphStep['run'][]) => runs.forEach((run) => this.steps.push({ run, layer: tag.layer, part: tag.part }));
    // Small kernels in their prepared form: uniform and bind group made here, none per step.
    const copyRows = (a: CopyRowsArgs) => this.keep(createCopyRows(device, a));
    const accumulate = (a: Parameters<typeof createAccumulate>[1]) => this.keep(createAccumulate(device, a));
    const swiglu = (a: Parameters<typeof createSwiglu>[1]) => this.keep(createSwiglu(device, a));

    const traits = { software: isSoftwareAdapter(device.adapterInfo), hasSubgroups: device.features.has('subgroups') };
    const normOnLoad = o.normOnLoad ?? !traits.software;
    // one expert's or one matrix's K×N
    const variantFor = (t: GpuTensor) => o.matvec ?? o.variantFor?.(t) ?? preferredMatvecVariant(traits, t.shape[0], t.shape[1] ?? 1);
    const gather = (a: Parameters<typeof createGatherMatvec>[1]) => this.keep(createGatherMatvec(device, a, variantFor(a.w)));
    // Decode (m < MATMUL_MIN_ROWS) fuses into the matvec what would be a dispatch of its own: the RMSNorm
    // of its input (applied on load), the residual add (y += W·x) and an FFN's up projection with its
    // SwiGLU (y = silu(W·x) * (W2·x)).
    const fuse = m < MATMUL_MIN_ROWS;
    // A matvec input: rows x, RMSNorm'ed on load when `norm` is set (decode only).
    type In = { x: GPUBuffer; norm?: MatvecNorm };
    const mv = (t: GpuTensor, xIn: In | GPUBuffer, y: BufferArg): PreparedKernel => {
      const a = 'x' in xIn ? xIn : { x: xIn };
      return this.keep(m >= MATMUL_MIN_ROWS ? createMatmul(device, { w: t, x: a.x, y, m }) : createMatvec(device, { w: t, ...a, y, m }, variantFor(t)));
    };
    // h += W·x                                                           [m, E]
    const mvResidual = (t: GpuTensor, xIn: GPUBuffer, scratch: GPUBuffer): GraphStep['run'] => {
      if (fuse) {
        const k = this.keep(createMatvec(device, { w: t, x: xIn, y: h, m, accumulate: true }, variantFor(t)));
        return (enc) => k.encode(enc);
      }
      const k = mv(t, xIn, scratch);
      const add = accumulate({ x: scratch, y: h, rows: m, n: E });
      return (enc) => {
        k.encode(enc);
        add.encode(enc);
      };
    };
    // Matrices that read xIn, into their blocks of `out`: one dispatch in decode where they fit one
    // (multiMatvecFits: one K, each in one part; types may differ), else one per matrix.
    const projections = (names: string[], xIn: In, out: ReturnType<typeof blocks>): GraphStep['run'][] => {
      const ws = names.map((n) => w.matrix(n));
      if (fuse && multiMatvecFits(ws)) {
        const v =
          o.matvec ??
          preferredMatvecVariant(
            traits,
            ws[0].shape[0],
            ws.reduce((s, t) => s + t.rows, 0),
          );
        const k = this.keep(createMultiMatvec(device, { ws, ...xIn, y: out.buffer, yOffsets: out.offsets, m }, v));
        return [(enc) => k.encode(enc)];
      }
      return ws.map((t, j) => {
        const k = mv(t, xIn, out.slices[j]);
        return (enc) => k.encode(enc);
      });
    };
    const pairable = (a: GpuTensor, b: GpuTensor) =>
      a.type === b.type &&
      a.shape.join() === b.shape.join() &&
      a.parts.length === b.parts.length &&
      a.parts.every((p, i) => p.rowStart === b.parts[i].rowStart && p.rowCount === b.parts[i].rowCount);
    // RMSNorm(src) · weight for the matvecs that read it: decode applies it on load, prefill (the tiled
    // matmul reads x as it is) records a norm dispatch into dst here, at the point of the call.
    const normed = (src: GPUBuffer, weight: string, dst: GPUBuffer, n: number): In => {
      if (fuse && normOnLoad) return { x: src, norm: { weight: w.vector(weight), eps: c.rmsEps } };
      const k = this.keep(createRmsnorm(device, { x: src, weight: w.vector(weight), y: dst, rows: m, n, eps: c.rmsEps }));
      push((enc) => k.encode(enc));
      return { x: dst };
    };
    const ropeNormal = ropeParamsFor(c.rope, false);
    const ropeNeox = ropeParamsFor(c.rope, true);

    // h = token_embd[ids]                                                [m, E]
    const embed = this.keep(createEmbedding(device, { table: w.matrix('token_embd.weight'), ids: this.ids, out: h, tokens: m }));
    push((enc) => embed.encode(enc));

    for (let il = 0; il < c.layers; il++) {
      const p = `blk.${il}.`;
      const cache = caches[il];
      tag.layer = il;
      tag.part = 'attn';
      const tr: LayerTraceBuffers | undefined = o.trace ? { dense: buf(m * o.capacity, `${p}trace.dense`) } : undefined;
      if (tr) this.traces.push(tr);

      // x = RMSNorm(h) · attn_norm
      const xa = normed(h, `${p}attn_norm.weight`, x, E);
      // q: cq = RMSNorm(attn_q_a · x); q = attn_q_b · cq   (lite: q = attn_q · x)        [m, H·(nope+rope)]
      // with [ckv | kpe] = attn_kv_a_mqa · x and the indexer's k_I = indexer.attn_k · x, w_I = indexer.proj · x
      // in the same dispatch as q_a (x_proj's blocks), and q_I = indexer.attn_q_b · cq in q_b's (cq_proj's)
      const xMats = [
        ...(lora ? [`${p}attn_q_a.weight`] : []),
        `${p}attn_kv_a_mqa.weight`,
        ...(ix ? [`${p}indexer.attn_k.weight`, `${p}indexer.proj.weight`] : []),
      ];
      if (!lora) {
        const qMv = mv(w.matrix(`${p}attn_q.weight`), xa, q);
        push((enc) => qMv.encode(enc));
      }
      push(...projections(xMats, xa, xProj));
      let cqIn: In | undefined;
      if (lora) {
        cqIn = normed(qa!, `${p}attn_q_a_norm.weight`, cq!, c.qLoraRank);
        if (cqProj) push(...projections([`${p}attn_q_b.weight`, `${p}indexer.attn_q_b.weight`], cqIn, cqProj));
        else {
          const qbMv = mv(w.matrix(`${p}attn_q_b.weight`), cqIn, q);
          push((enc) => qbMv.encode(enc));
        }
      }
      // [ckv | kpe] = attn_kv_a_mqa · x, then one dispatch (mla-append.wgsl) for ckv = RMSNorm(ckv), kpe =
      // rope(kpe), read in place from kv_a's rows [m, kv_lora + rope] and written straight to the caches at
      // pos (absorbed) or to ckv/kpe (legacy), and the rope on each q head's last `rope` dims: absorbed MLA
      // reads them as q_pe [m, H, rope], legacy attention reads the whole q, so it rotates in place
      const absorbed = c.mla === 'absorbed';
      const append = this.keep(
        createMlaAppend(device, {
          rows: m,
          heads: H,
          kvLora: L,
          rope: ropeNormal,
          eps: c.rmsEps,
          kvA: kva,
          normWeight: w.vector(`${p}attn_kv_a_norm.weight`),
          ckv: absorbed ? cache.ckv! : ckv,
          kpe: absorbed ? cache.kpe! : kpe,
          atStep: absorbed,
          q,
          qHead: K,
          qOffset: N,
          qPe: absorbed ? qPe : undefined,
        }),
      );
      push((enc, pos) => append.encode(enc, pos));

      if (absorbed) {
        // q_lat_h = k_b_h · q_nope_h, q_nope_h read in place: the first `nope` values of each head's row of q    [m·H, kv_lora]
        const kb = gather({ w: w.matrix(`${p}attn_k_b.weight`), ids: headIds, x: q, xStride: K, y: qLat!, slots: m * H, xDiv: 1 });
        push((enc) => kb.encode(enc));
      } else {
        // legacy: [knope_h | v_h] = attn_kv_b · ckv; k cache rows are [H, nope | rope] with kpe shared by the heads
        const kvbMv = mv(w.matrix(`${p}attn_kv_b.weight`), ckv, kvB!);
        // kv_b [m, H, nope+v] is m·H rows of nope+v: one copy each for knope and v (cache rows pos·H…);
        // kpe is one row per token shared by its H heads (source stride 0), so one copy per token.
        const kAppend = copyRows({ src: kvB!, dst: cache.k!, rows: m * H, width: N, srcRow: N + Vd, dstRow: K, dstRow0: 0 });
        const vAppend = copyRows({ src: kvB!, dst: cache.v!, rows: m * H, width: Vd, srcRow: N + Vd, srcOffset: N, dstRow: Vd, dstRow0: 0 });
        const kpeAppends = Array.from({ length: m }, (_, r) =>
          copyRows({ src: kpe, dst: cache.k!, rows: H, width: R, srcRow: 0, srcOffset: r * R, dstRow: K, dstRow0: 0, dstOffset: N }),
        );
        push((enc, pos) => {
          kvbMv.encode(enc);
          kAppend.encode(enc, pos * H);
          vAppend.encode(enc, pos * H);
          kpeAppends.forEach((a, r) => a.encode(enc, (pos + r) * H));
        });
      }

      // DSA: index keys into the cache, scores over 0..pos, top-k positions
      let sparseIdx: GPUBuffer | undefined;
      if (ix) {
        tag.part = 'indexer';
        const DI = ix.keyLength;
        const scores = tr ? (tr.scores = buf(m * o.capacity, `${p}trace.scores`)) : sharedScores!;
        const score = this.keep(
          createIndexerScore(device, {
            heads: ix.heads,
            dim: DI,
            nq: m,
            qI: qI!,
            w: wI!,
            kI: cache.kI!,
            scores,
            scoreStride: o.capacity,
            wScale: 1 / Math.sqrt(DI * ix.heads),
          }),
        );
        let topk: PreparedStepKernel | undefined;
        if (sparse) {
          sparseIdx = tr ? (tr.chosen = this.own(createStorage(device, m * o.topK * 4, `${p}trace.chosen`))) : sharedChosen!;
          topk = this.keep(createTopk(device, { nq: m, k: o.topK, scores, scoreStride: o.capacity, idx: sparseIdx }));
        }
        // k_I = rope(LayerNorm(k_I_raw)) appended to the cache at pos, q_I rotated in place: one dispatch
        const ixAppend = this.keep(
          createIndexerAppend(device, {
            rows: m,
            heads: ix.heads,
            dim: DI,
            rope: ropeNeox,
            eps: 1e-6,
            kRaw: kIraw!,
            lnWeight: w.vector(`${p}indexer.k_norm.weight`),
            lnBias: w.vector(`${p}indexer.k_norm.bias`),
            kCache: cache.kI!,
            q: qI!,
          }),
        );
        push((enc, pos) => {
          ixAppend.encode(enc, pos);
          score.encode(enc, { nKv: pos + m, qPos0: pos });
          topk?.encode(enc, { nKv: pos + m, qPos0: pos });
        });
      }

      // attention over the cache (sparse: only the chosen rows), then the per-head output projection
      const attnArgs = { heads: H, nq: m, capacity: o.capacity, kqScale: c.kqScale, scratch: this.scratch };
      const makeAttn = (out: GPUBuffer, sp: { idx: GPUBuffer; k: number } | undefined, weights: GPUBuffer | undefined) =>
        this.keep(
          c.mla === 'absorbed'
            ? createMlaAbsorbed(device, { ...attnArgs, kvLora: L, rope: R, qLat: qLat!, qPe, ckv: cache.ckv!, kpe: cache.kpe!, out, sparse: sp, weights })
            : createMlaLegacy(device, { ...attnArgs, dk: K, dv: Vd, q, k: cache.k!, v: cache.v!, out, sparse: sp, weights }),
        );
      const sp = sparseIdx ? { idx: sparseIdx, k: o.topK } : undefined;
      const attn = makeAttn(attnO, sp, tr && !sp ? tr.dense : undefined);
      // A sparse trace still shows what dense attention would have weighted: one extra dense pass.
      const denseForTrace = tr && sp ? makeAttn(denseScratch, undefined, tr.dense) : undefined;
      tag.part = 'attention';
      push((enc, pos) => {
        attn.encode(enc, { nKv: pos + m, qPos0: pos });
        denseForTrace?.encode(enc, { nKv: pos + m, qPos0: pos });
      });
      tag.part = 'attn';
      if (c.mla === 'absorbed') {
        // o_h = v_b_h · o_lat_h                                                               [m·H, v]
        const vb = gather({ w: w.matrix(`${p}attn_v_b.weight`), ids: headIds, x: attnO, y: oHeads, slots: m * H, xDiv: 1 });
        push((enc) => vb.encode(enc));
      }
      // h += attn_output · concat_h(o_h)
      push(mvResidual(w.matrix(`${p}attn_output.weight`), c.mla === 'absorbed' ? oHeads : attnO, attnOut));

      // FFN on x = RMSNorm(h) · ffn_norm
      tag.part = 'ffn';
      const xf = normed(h, `${p}ffn_norm.weight`, x, E);
      // h += down · (silu(gate · x) * (up · x)): 2 dispatches in decode, 5 in prefill; `up` (reads h through
      // the norm) and `down` (adds to h) apart, so a MoE layer can run every reader of h before any writer
      const swigluFfn = (gateName: string, upName: string, downName: string, width: number) => {
        const [gw, uw] = [w.matrix(gateName), w.matrix(upName)];
        const down = mvResidual(w.matrix(downName), act, ffnOut);
        if (fuse && pairable(gw, uw)) {
          const gu = this.keep(createMatvec(device, { w: gw, w2: uw, ...xf, y: act, m }, variantFor(gw)));
          return { up: (enc: GPUCommandEncoder) => gu.encode(enc), down };
        }
        const g = mv(gw, xf, gate);
        const u = mv(uw, xf, up);
        const sw = swiglu({ gate, up, y: act, n: m * width });
        const upRun = (enc: GPUCommandEncoder) => {
          g.encode(enc);
          u.encode(enc);
          sw.encode(enc);
        };
        return { up: upRun, down };
      };
      if (!isMoeLayer(c, il)) {
        const f = swigluFfn(`${p}ffn_gate.weight`, `${p}ffn_up.weight`, `${p}ffn_down.weight`, c.ffn);
        push(f.up, f.down);
      } else {
        const mo = moe!;
        const probs = tr ? (tr.probs = buf(m * X, `${p}trace.probs`)) : sharedProbs!;
        const experts = tr ? (tr.experts = buf(m * k, `${p}trace.experts`)) : sharedExperts!;
        const weights = tr ? (tr.expertWeights = buf(m * k, `${p}trace.weights`)) : sharedWeights!;
        const routerMv = mv(w.matrix(`${p}ffn_gate_inp.weight`), xf, rLogits!);
        const bias = w.has(`${p}exp_probs_b.bias`) ? w.vector(`${p}exp_probs_b.bias`) : zeroBias!;
        // act_j = silu(gate_j · x) * (up_j · x) for the chosen experts j: one gathered dispatch when the two pair
        const [gew, uew] = [w.matrix(`${p}ffn_gate_exps.weight`), w.matrix(`${p}ffn_up_exps.weight`)];
        const pairExperts = pairable(gew, uew);
        const gux = pairExperts ? gather({ w: gew, w2: uew, ids: experts, ...xf, y: eAct!, slots: m * k, xDiv: k }) : undefined;
        const gx = pairExperts ? undefined : gather({ w: gew, ids: experts, ...xf, y: eGate!, slots: m * k, xDiv: k });
        const ux = pairExperts ? undefined : gather({ w: uew, ids: experts, ...xf, y: eUp!, slots: m * k, xDiv: k });
        // h += Σ_j weight_j · down_j · act_j: decode in one dispatch (COMBINE: each h row loops over its token's
        // k experts), prefill as the per-slot down projections [m·k, E] and a weighted accumulate
        const downW = w.matrix(`${p}ffn_down_exps.weight`);
        const dx = fuse
          ? gather({ w: downW, ids: experts, x: eAct!, y: h, slots: m * k, xDiv: 1, combine: { weights, terms: k } })
          : gather({ w: downW, ids: experts, x: eAct!, y: eDown!, slots: m * k, xDiv: 1 });
        const shared = mo.shared > 0 ? swigluFfn(`${p}ffn_gate_shexp.weight`, `${p}ffn_up_shexp.weight`, `${p}ffn_down_shexp.weight`, sharedW) : undefined;
        const router = this.keep(
          createMoeRouter(device, {
            logits: rLogits!,
            bias,
            probs,
            experts,
            weights,
            tokens: m,
            nExpert: X,
            options: {
              gating: mo.gating,
              topK: k,
              groupCount: Math.max(1, mo.groups),
              groupsUsed: Math.max(1, mo.groupsUsed),
              normalize: mo.weightsNorm,
              scale: mo.weightsScale,
            },
          }),
        );
        const eSwiglu = pairExperts ? undefined : swiglu({ gate: eGate!, up: eUp!, y: eAct!, n: m * k * mo.ffx });
        const combine = fuse ? undefined : accumulate({ x: eDown!, y: h, rows: m, n: E, terms: k, w: weights });
        push((enc) => {
          routerMv.encode(enc);
          router.encode(enc);
          gux?.encode(enc);
          gx?.encode(enc);
          ux?.encode(enc);
          eSwiglu?.encode(enc);
          shared?.up(enc);
          dx.encode(enc);
          combine?.encode(enc);
          shared?.down(enc, 0);
        });
      }
    }

    // logits = output · RMSNorm(h) · output_norm                          [m, V]
    const outW = w.matrix(c.tiedOutput ? 'token_embd.weight' : 'output.weight');
    tag.layer = -1;
    tag.part = 'head';
    const logitsMv = mv(outW, normed(h, 'output_norm.weight', x, E), this.logits);
    push((enc) => logitsMv.encode(enc));
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

  private own(b: GPUBuffer): GPUBuffer {
    this.owned.push(b);
    return b;
  }

  private keep<T extends Disposable>(p: T): T {
    this.prepared.push(p);
    return p;
  }
}
