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
import {
  createIndexerAppend,
  createMlaAppend,
  createMlaIndexerAppend,
  MLA_INDEXER_APPEND_STORAGE_BUFFERS,
  type IndexerAppendArgs,
  type MlaAppendArgs,
} from '../../gpu/shaders/cache-append/cache-append.ts';
import { ropeParamsFor } from '../../gpu/shaders/rope/rope.ts';
import { createMlaAbsorbed, createMlaLegacy, createCopyRows, type CopyRowsArgs } from '../../gpu/shaders/mla/mla.ts';
import { createIndexerScore, createTopk, type PreparedStepKernel } from '../../gpu/shaders/dsa/dsa.ts';
import { BuiltGraph, GraphBuilder, type GraphOptions, type LayerTraceBuffers, type MatvecInput } from './graph-builder.ts';
import type { GpuWeights } from './gpu-weights.ts';
import type { LayerCache } from './kv-cache.ts';
import { canFuseMoe, fusedMoeSteps, moeSteps, type MoeBuffers } from './moe-ffn.ts';

export { MATMUL_MIN_ROWS, type GraphOptions, type GraphStep, type LayerTraceBuffers, type StepPart } from './graph-builder.ts';

export class ForwardGraph extends BuiltGraph {
  constructor(device: GPUDevice, c: ModelConfig, w: GpuWeights, caches: LayerCache[], o: GraphOptions) {
    const b = new GraphBuilder(device, w, o, { rmsEps: c.rmsEps, embd: c.embd, vocab: c.vocab });
    super(b, o);
    const { m } = o;
    const { embd: E, heads: H, qkNope: N, qkRope: R, kvLoraRank: L, vHead: Vd } = c;
    const K = N + R;

    // Scratch shared by all layers.                                        shapes
    const h = b.buf(m * E, 'h'); //                                         [m, E] residual stream
    const x = b.buf(m * E, 'x'); //                                         [m, E] normed input
    const ix = c.indexer;
    const lora = c.qLoraRank > 0;
    // The projections that read one x write blocks of one buffer (GraphBuilder.blocks: the first at offset 0, so it
    // binds as the whole buffer; the others as aligned ranges), so a decode step can compute them in one
    // dispatch (createMultiMatvec): x → [q_a | kv_a | k_I | w_I] and cq → [q | q_I].
    const xProj = b.blocks('x_proj', [...(lora ? [c.qLoraRank] : []), L + R, ...(ix ? [ix.keyLength, ix.heads] : [])]);
    const qa = lora ? xProj.buffer : undefined; //                          [m, q_lora]
    const kva = xProj.slices[lora ? 1 : 0]; //                              [m, kv_lora+rope]
    const kIraw = ix ? xProj.slices[lora ? 2 : 1] : undefined; //           [m, D_I]
    const wI = ix ? xProj.slices[lora ? 3 : 2] : undefined; //              [m, H_I]
    const cq = lora ? b.buf(m * c.qLoraRank, 'cq') : undefined; //         [m, q_lora] (prefill: the normed q_a)
    const cqProj = lora && ix ? b.blocks('cq_proj', [H * K, ix.heads * ix.keyLength]) : undefined;
    const q = cqProj ? cqProj.buffer : b.buf(m * H * K, 'q'); //            [m, H, nope+rope]
    const qI = cqProj?.slices[1]; //                                        [m, H_I, D_I]
    const qPe = b.buf(m * H * R, 'q_pe'); //                                [m, H, rope]
    const ckv = b.buf(m * L, 'ckv'); //                                     [m, kv_lora]
    const kpe = b.buf(m * R, 'kpe'); //                                     [m, rope]
    const attnO = b.buf(m * H * Math.max(L, Vd), 'attn_o'); //              [m, H, kv_lora] (absorbed) / [m, H, v] (legacy)
    const oHeads = b.buf(m * H * Vd, 'o'); //                                    [m, H, v]
    const attnOut = b.buf(m * E, 'attn_out'); //                            [m, E]
    const ffnOut = b.buf(m * E, 'ffn_out'); //                              [m, E]
    const denseScratch = b.buf(m * H * Math.max(L, Vd), 'dense_o'); //      trace-only dense pass output

    // Absorbed: per-head matrices (attn_k_b, attn_v_b) as a gathered matvec with slot j → head j mod H.
    const headIds = b.own(
      uploadStorage(
        device,
        Uint32Array.from({ length: m * H }, (_, j) => j % H),
        'head_ids',
      ),
    );
    const qLat = c.mla === 'absorbed' ? b.buf(m * H * L, 'q_lat') : undefined; //   [m·H, kv_lora]
    const kvB = c.mla === 'legacy' ? b.buf(m * H * (N + Vd), 'kv_b') : undefined; // [m, H, nope+v]

    const sparse = !!ix && o.topK > 0;
    const sharedScores = ix && !o.trace ? b.buf(m * o.capacity, 'index_scores') : undefined;
    const sharedChosen = sparse && !o.trace ? b.buf(m * o.topK, 'chosen') : undefined;

    const moe = c.moe;
    const X = moe?.experts ?? 0;
    const k = moe?.used ?? 0;
    const sharedW = moe ? moe.ffx * moe.shared : 0;
    const ffMax = Math.max(c.leadingDense > 0 ? c.ffn : 0, sharedW);
    const gate = b.buf(m * Math.max(ffMax, 1), 'gate'); //                [m, ff]
    const up = b.buf(m * Math.max(ffMax, 1), 'up');
    const act = b.buf(m * Math.max(ffMax, 1), 'act');
    const ffnBuffers = { h, gate, up, act, ffnOut };
    // MoE scratch (moe-ffn.ts), shapes:
    //   router_logits [m, X]; exp_gate, exp_up [m·k, ffx]; exp_act [m·k, ffx] routed then [m, ffx·shared] shared;
    //   exp_down [m·k, E]; router_probs [m, X], experts and expert_weights [m, k] (untraced); zero_bias [X]
    const moeBufs: MoeBuffers | undefined = !moe
      ? undefined
      : {
          h,
          x,
          rLogits: b.buf(m * X, 'router_logits'),
          eGate: b.buf(m * k * moe.ffx, 'exp_gate'),
          eUp: b.buf(m * k * moe.ffx, 'exp_up'),
          eAct: b.buf(m * k * moe.ffx + m * sharedW, 'exp_act'),
          eDown: b.buf(m * k * E, 'exp_down'),
          sharedProbs: o.trace ? undefined : b.buf(m * X, 'router_probs'),
          sharedExperts: o.trace ? undefined : b.buf(m * k, 'experts'),
          sharedWeights: o.trace ? undefined : b.buf(m * k, 'expert_weights'),
          zeroBias: b.buf(X, 'zero_bias'),
          ffn: ffnBuffers,
        };

    const tag = b.tag;
    // Small kernels in their prepared form: uniform and bind group made here, none per step.
    const copyRows = (a: CopyRowsArgs) => b.keep(createCopyRows(device, a));
    const ropeNormal = ropeParamsFor(c.rope, false);
    const ropeNeox = ropeParamsFor(c.rope, true);

    b.embed(h);

    for (let il = 0; il < c.layers; il++) {
      const p = `blk.${il}.`;
      const cache = caches[il];
      tag.layer = il;
      tag.part = 'attn';
      const tr: LayerTraceBuffers | undefined = o.trace ? { dense: b.buf(m * o.capacity, `${p}trace.dense`) } : undefined;
      if (tr) b.traces.push(tr);

      // x = RMSNorm(h) · attn_norm
      const xa = b.normed(h, `${p}attn_norm.weight`, x, E);
      // q: cq = RMSNorm(attn_q_a · x); q = attn_q_b · cq   (lite: q = attn_q · x)        [m, H·(nope+rope)]
      // with [ckv | kpe] = attn_kv_a_mqa · x and the indexer's k_I = indexer.attn_k · x, w_I = indexer.proj · x
      // in the same dispatch as q_a (x_proj's blocks), and q_I = indexer.attn_q_b · cq in q_b's (cq_proj's)
      const xMats = [
        ...(lora ? [`${p}attn_q_a.weight`] : []),
        `${p}attn_kv_a_mqa.weight`,
        ...(ix ? [`${p}indexer.attn_k.weight`, `${p}indexer.proj.weight`] : []),
      ];
      if (!lora) {
        const qMv = b.mv(w.matrix(`${p}attn_q.weight`), xa, q);
        b.push((enc) => qMv.encode(enc));
      }
      b.push(...b.projections(xMats, xa, xProj));
      let cqIn: MatvecInput | undefined;
      if (lora) {
        cqIn = b.normed(qa!, `${p}attn_q_a_norm.weight`, cq!, c.qLoraRank);
        if (cqProj) b.push(...b.projections([`${p}attn_q_b.weight`, `${p}indexer.attn_q_b.weight`], cqIn, cqProj));
        else {
          const qbMv = b.mv(w.matrix(`${p}attn_q_b.weight`), cqIn, q);
          b.push((enc) => qbMv.encode(enc));
        }
      }
      // [ckv | kpe] = attn_kv_a_mqa · x, then one dispatch (mla-append.wgsl) for ckv = RMSNorm(ckv), kpe =
      // rope(kpe), read in place from kv_a's rows [m, kv_lora + rope] and written straight to the caches at
      // pos (absorbed) or to ckv/kpe (legacy), and the rope on each q head's last `rope` dims: absorbed MLA
      // reads them as q_pe [m, H, rope], legacy attention reads the whole q, so it rotates in place
      // With the DSA indexer its append (k_I = rope(LayerNorm(k_I_raw)) to its cache at pos, q_I rotated in
      // place) runs in the same dispatch (mla-indexer-append.wgsl): both read only the projections' outputs.
      const absorbed = c.mla === 'absorbed';
      const mlaArgs: MlaAppendArgs = {
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
        // q's block alone: with the indexer, q_I (the next block) is written by the same dispatch
        q: cqProj ? cqProj.slices[0] : q,
        qHead: K,
        qOffset: N,
        qPe: absorbed ? qPe : undefined,
      };
      const ixArgs: IndexerAppendArgs | undefined = ix
        ? {
            rows: m,
            heads: ix.heads,
            dim: ix.keyLength,
            rope: ropeNeox,
            eps: 1e-6,
            kRaw: kIraw!,
            lnWeight: w.vector(`${p}indexer.k_norm.weight`),
            lnBias: w.vector(`${p}indexer.k_norm.bias`),
            kCache: cache.kI!,
            q: qI!,
          }
        : undefined;
      // one dispatch for both where the device binds the 11 storage buffers it needs (Chromium's SwiftShader: 10)
      const fuseAppends = !!ixArgs && device.limits.maxStorageBuffersPerShaderStage >= MLA_INDEXER_APPEND_STORAGE_BUFFERS;
      const append = b.keep(fuseAppends ? createMlaIndexerAppend(device, mlaArgs, ixArgs!) : createMlaAppend(device, mlaArgs));
      const ixAppend = ixArgs && !fuseAppends ? b.keep(createIndexerAppend(device, ixArgs)) : undefined;
      b.push((enc, pos) => {
        append.encode(enc, pos);
        ixAppend?.encode(enc, pos);
      });

      if (absorbed) {
        // q_lat_h = k_b_h · q_nope_h, q_nope_h read in place: the first `nope` values of each head's row of q    [m·H, kv_lora]
        const kb = b.gather({ w: w.matrix(`${p}attn_k_b.weight`), ids: headIds, x: q, xStride: K, y: qLat!, slots: m * H, xDiv: 1 });
        b.push((enc) => kb.encode(enc));
      } else {
        // legacy: [knope_h | v_h] = attn_kv_b · ckv; k cache rows are [H, nope | rope] with kpe shared by the heads
        const kvbMv = b.mv(w.matrix(`${p}attn_kv_b.weight`), ckv, kvB!);
        // kv_b [m, H, nope+v] is m·H rows of nope+v: one copy each for knope and v (cache rows pos·H…);
        // kpe is one row per token shared by its H heads (source stride 0), so one copy per token.
        const kAppend = copyRows({ src: kvB!, dst: cache.k!, rows: m * H, width: N, srcRow: N + Vd, dstRow: K, dstRow0: 0 });
        const vAppend = copyRows({ src: kvB!, dst: cache.v!, rows: m * H, width: Vd, srcRow: N + Vd, srcOffset: N, dstRow: Vd, dstRow0: 0 });
        const kpeAppends = Array.from({ length: m }, (_, r) =>
          copyRows({ src: kpe, dst: cache.k!, rows: H, width: R, srcRow: 0, srcOffset: r * R, dstRow: K, dstRow0: 0, dstOffset: N }),
        );
        b.push((enc, pos) => {
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
        const scores = tr ? (tr.scores = b.buf(m * o.capacity, `${p}trace.scores`)) : sharedScores!;
        const score = b.keep(
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
          sparseIdx = tr ? (tr.chosen = b.own(createStorage(device, m * o.topK * 4, `${p}trace.chosen`))) : sharedChosen!;
          topk = b.keep(createTopk(device, { nq: m, k: o.topK, scores, scoreStride: o.capacity, idx: sparseIdx }));
        }
        // (k_I was appended and q_I rotated with MLA's append above)
        b.push((enc, pos) => {
          score.encode(enc, { nKv: pos + m, qPos0: pos });
          topk?.encode(enc, { nKv: pos + m, qPos0: pos });
        });
      }

      // attention over the cache (sparse: only the chosen rows), then the per-head output projection
      const attnArgs = { heads: H, nq: m, capacity: o.capacity, kqScale: c.kqScale, scratch: b.scratch };
      const rawAttn = (out: GPUBuffer, sp: { idx: GPUBuffer; k: number } | undefined, weights: GPUBuffer | undefined) =>
        c.mla === 'absorbed'
          ? createMlaAbsorbed(device, { ...attnArgs, kvLora: L, rope: R, qLat: qLat!, qPe, ckv: cache.ckv!, kpe: cache.kpe!, out, sparse: sp, weights })
          : createMlaLegacy(device, { ...attnArgs, dk: K, dv: Vd, q, k: cache.k!, v: cache.v!, out, sparse: sp, weights });
      const makeAttn = (...a: Parameters<typeof rawAttn>) => b.keep(rawAttn(...a));
      // the oracle's picks (a dense pass for the weights, their top-k) replace the indexer's in the attention
      const oracle = o.oracleTopK ? b.oracle((weights) => rawAttn(denseScratch, undefined, weights), tr) : undefined;
      const sp = oracle ?? (sparseIdx ? { idx: sparseIdx, k: o.topK } : undefined);
      const attn = makeAttn(attnO, sp, tr && !sp ? tr.dense : undefined);
      // A sparse trace still shows what dense attention would have weighted: one extra dense pass (the oracle's is one).
      const denseForTrace = tr && sp && !oracle ? makeAttn(denseScratch, undefined, tr.dense) : undefined;
      tag.part = 'attention';
      b.push((enc, pos) => {
        oracle?.run(enc, pos);
        attn.encode(enc, { nKv: pos + m, qPos0: pos });
        denseForTrace?.encode(enc, { nKv: pos + m, qPos0: pos });
      });
      tag.part = 'attn';
      if (c.mla === 'absorbed') {
        // o_h = v_b_h · o_lat_h                                                               [m·H, v]
        const vb = b.gather({ w: w.matrix(`${p}attn_v_b.weight`), ids: headIds, x: attnO, y: oHeads, slots: m * H, xDiv: 1 });
        b.push((enc) => vb.encode(enc));
      }
      // h += attn_output · concat_h(o_h)
      b.push(b.mvResidual(w.matrix(`${p}attn_output.weight`), c.mla === 'absorbed' ? oHeads : attnO, h, attnOut));

      // FFN on x = RMSNorm(h) · ffn_norm
      tag.part = 'ffn';
      if (!isMoeLayer(c, il)) {
        // h += down · (silu(gate · x) * (up · x)): 2 dispatches in decode (after the norm's, where it is one), 5 in prefill
        const xf = b.normed(h, `${p}ffn_norm.weight`, x, E);
        const f = b.swigluFfn({ gate: `${p}ffn_gate.weight`, up: `${p}ffn_up.weight`, down: `${p}ffn_down.weight` }, xf, c.ffn, ffnBuffers);
        b.push(f.up, f.down);
      } else {
        // moe-ffn.ts: 3 dispatches in an untraced decode step, the general form otherwise
        b.push(...(canFuseMoe(b, p, !!tr) ? fusedMoeSteps(b, c, p, moeBufs!) : moeSteps(b, c, p, moeBufs!, tr)));
      }
    }

    // logits = output · RMSNorm(h) · output_norm                          [m, V]
    b.head(h, x, c.tiedOutput);
  }
}
