/**
 * One forward pass of M tokens of a dense family (llama, qwen2, qwen3: src/model/architectures/dense.ts)
 * on the GPU, the same math as the CPU reference (src/model/reference/parts/dense-transformer.ts), built
 * from the parts the MLA graph uses (graph-builder.ts) plus grouped-query attention:
 *
 *   h = token_embd[ids]                                                            [m, E]
 *   per layer:  x = RMSNorm(h) · attn_norm
 *               [q | k | v] = [W_q | W_k | W_v] · x           (one dispatch in decode)  [m, H·D | HK·D | HK·D]
 *               q, k = RoPE(QKnorm(· + bias)), k and v to the caches at pos (gqa-append: one dispatch)
 *               h += W_o · GQA(q, k cache, v cache)
 *               h += W_down · (silu(W_gate x) ⊙ W_up x),  x = RMSNorm(h) · ffn_norm
 *   logits = output · RMSNorm(h) · output_norm                                      [m, V]
 *
 * A decode step is 7 dispatches a layer where the norms fold into their matvecs (hardware GPUs), 9 where
 * they do not (software adapters): projections, append, attention (2), output, gate+up, down; rounding the
 * quantized matmuls' inputs as llama.cpp does (GraphOptions.roundActivations, WebGpuModel's default for these
 * families) adds one dispatch per rounded input (4) and keeps the 2 norms as dispatches: 13.
 */
import type { DenseModelConfig } from '../../model/architectures/dense.ts';
import { createGqaAppend, gqaAuxLayout } from '../../gpu/shaders/cache-append/cache-append.ts';
import { createGqaAttention } from '../../gpu/shaders/mla/mla.ts';
import { ropeParamsFor } from '../../gpu/shaders/rope/rope.ts';
import { BuiltGraph, GraphBuilder, type GraphOptions, type LayerTraceBuffers } from './graph-builder.ts';
import type { GpuWeights } from './gpu-weights.ts';
import type { LayerCache } from './kv-cache.ts';

export class DenseForwardGraph extends BuiltGraph {
  constructor(device: GPUDevice, c: DenseModelConfig, w: GpuWeights, caches: LayerCache[], o: GraphOptions) {
    const b = new GraphBuilder(device, w, o, { rmsEps: c.rmsEps, embd: c.embd, vocab: c.vocab });
    super(b, o);
    const { m } = o;
    const { embd: E, heads: H, headsKv: HK, headDim: D, ffn: F } = c;
    const Q = H * D;
    const KV = HK * D;

    // Scratch shared by all layers.                                        shapes
    const h = b.buf(m * E, 'h'); //                                         [m, E] residual stream
    const x = b.buf(m * E, 'x'); //                                         [m, E] normed input
    const qkv = b.blocks('qkv', [Q, KV, KV]); //                            [m, Q] | [m, KV] | [m, KV]; q at 0
    const attnO = b.buf(m * Q, 'attn_o'); //                                [m, H, D]
    const denseO = o.oracleTopK ? b.buf(m * Q, 'oracle_dense_o') : undefined; //  [m, H, D] the oracle's dense pass (unread)
    const attnOut = b.buf(m * E, 'attn_out'); //                            [m, E] (prefill)
    const ffnBuffers = { h, gate: b.buf(m * F, 'gate'), up: b.buf(m * F, 'up'), act: b.buf(m * F, 'act'), ffnOut: b.buf(m * E, 'ffn_out') };
    const rope = ropeParamsFor(c.rope, c.ropeStyle === 'neox');
    const has = { bias: c.qkvBias, qkNorm: c.qkNorm, freqFactors: c.ropeFreqs };
    const aux = gqaAuxLayout(H, HK, D);

    b.embed(h);
    for (let il = 0; il < c.layers; il++) {
      const p = `blk.${il}.`;
      const cache = caches[il];
      b.tag.layer = il;
      b.tag.part = 'attn';
      const tr: LayerTraceBuffers | undefined = o.trace ? { dense: b.buf(m * o.capacity, `${p}trace.dense`) } : undefined;
      if (tr) b.traces.push(tr);

      const qkvNames = [`${p}attn_q.weight`, `${p}attn_k.weight`, `${p}attn_v.weight`];
      const xa = b.normed(h, `${p}attn_norm.weight`, x, E, qkvNames);
      b.push(...b.projections(qkvNames, xa, qkv));
      // this layer's small vectors in one buffer (the append's bindings): biases, QK-norm weights, rope factors
      const auxBuf = w.packed(`${p}gqa_aux`, aux.floats, [
        [has.bias ? `${p}attn_q.bias` : undefined, aux.bq],
        [has.bias ? `${p}attn_k.bias` : undefined, aux.bk],
        [has.bias ? `${p}attn_v.bias` : undefined, aux.bv],
        [has.qkNorm ? `${p}attn_q_norm.weight` : undefined, aux.qn],
        [has.qkNorm ? `${p}attn_k_norm.weight` : undefined, aux.kn],
        [has.freqFactors ? 'rope_freqs.weight' : undefined, aux.ff],
      ]);
      const append = b.keep(
        createGqaAppend(device, {
          rows: m,
          heads: H,
          headsKv: HK,
          headDim: D,
          rope,
          eps: c.rmsEps,
          qkv: qkv.buffer,
          offsets: { q: qkv.offsets[0], k: qkv.offsets[1], v: qkv.offsets[2] },
          aux: auxBuf,
          has,
          kCache: cache.k!,
          vCache: cache.v!,
        }),
      );
      b.push((e, pos) => append.encode(e, pos));

      b.tag.part = 'attention';
      const gqa = (out: GPUBuffer, sparse: { idx: GPUBuffer; k: number } | undefined, weights: GPUBuffer | undefined) =>
        createGqaAttention(device, {
          heads: H,
          headsKv: HK,
          dk: D,
          dv: D,
          nq: m,
          capacity: o.capacity,
          kqScale: c.kqScale,
          q: qkv.buffer,
          k: cache.k!,
          v: cache.v!,
          out,
          sparse,
          weights,
          scratch: b.scratch,
        });
      // oracle top-k: a dense pass for the weights, their top-k, then attention over those positions only
      const oracle = o.oracleTopK ? b.oracle((weights) => gqa(denseO!, undefined, weights), tr) : undefined;
      const attn = b.keep(gqa(attnO, oracle, oracle ? undefined : tr?.dense));
      b.push((e, pos) => {
        oracle?.run(e, pos);
        attn.encode(e, { nKv: pos + m, qPos0: pos });
      });
      b.tag.part = 'attn';
      b.roundInput(attnO, Q, [`${p}attn_output.weight`]);
      b.push(b.mvResidual(w.matrix(`${p}attn_output.weight`), attnO, h, attnOut));

      b.tag.part = 'ffn';
      const xf = b.normed(h, `${p}ffn_norm.weight`, x, E, [`${p}ffn_gate.weight`, `${p}ffn_up.weight`]);
      const f = b.swigluFfn({ gate: `${p}ffn_gate.weight`, up: `${p}ffn_up.weight`, down: `${p}ffn_down.weight` }, xf, F, ffnBuffers);
      b.push(f.up, f.down);
    }
    b.head(h, x, c.tiedOutput);
  }
}
