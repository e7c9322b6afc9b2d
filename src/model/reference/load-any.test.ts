/**
 * loadAnyReferenceModel: each family to its reference model, from a GGUF file in memory (a Blob),
 * the MLA families exactly as loadReferenceModelData + ReferenceModel load them, and what cannot be
 * run refused with typed errors before any weight is read.
 */
import { describe, expect, it } from 'vitest';
import { isSparseScopeError } from '../../errors.ts';
import { openGguf } from '../../gguf/reader.ts';
import { serializeGguf, type GgufSpec } from '../../gguf/writer.ts';
import { buildDenseFixture } from '../../tools/fixture/dense-fixture.ts';
import { buildFixture } from '../../tools/fixture/fixture.ts';
import { ReferenceModel } from './forward.ts';
import { loadAnyReferenceModel } from './load-any.ts';
import { DenseTransformerReference } from './parts/dense-transformer.ts';
import { loadReferenceModelData, weightsFromMap } from './weights.ts';

const blob = (spec: GgufSpec) => new Blob(serializeGguf(spec) as BlobPart[]);
const TOKENS = [3, 50, 7, 120];

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return isSparseScopeError(e) ? `${e.code}: ${e.message}` : `untyped: ${(e as Error).message}`;
  }
  return 'no error';
}

describe('loadAnyReferenceModel', () => {
  it('a qwen3 file → DenseTransformerReference with the written weights', async () => {
    const fx = buildDenseFixture({ arch: 'qwen3', dims: { embd: 64, layers: 2, heads: 4, headsKv: 2, headDim: 32, ffn: 96, context: 64 }, seed: 9 });
    const f = await openGguf({ kind: 'blob', blob: blob(fx) });
    const m = await loadAnyReferenceModel(f);
    await f.close();
    expect(m).toBeInstanceOf(DenseTransformerReference);
    // the file stores rms eps as f32
    expect({ ...m.config, rmsEps: 0 }).toEqual({ ...fx.config, rmsEps: 0 });
    expect(m.config.rmsEps).toBe(Math.fround(1e-6));
    const direct = new DenseTransformerReference(m.config as DenseTransformerReference['config'], weightsFromMap(fx.f32));
    expect(m.forward(TOKENS).logits).toEqual(direct.forward(TOKENS).logits);
  });

  it('a deepseek2 file → the ReferenceModel loadReferenceModelData gives', async () => {
    const fx = buildFixture({ arch: 'deepseek2' });
    const f = await openGguf({ kind: 'blob', blob: blob(fx) });
    const m = await loadAnyReferenceModel(f);
    const { config, weights } = await loadReferenceModelData(f);
    await f.close();
    expect(m).toBeInstanceOf(ReferenceModel);
    expect(m.config).toEqual(config);
    expect(m.forward(TOKENS).logits).toEqual(new ReferenceModel(config, weights).forward(TOKENS).logits);
  });

  it('unknown architectures, missing tensors and too little memory are typed errors', async () => {
    const fx = buildDenseFixture({ arch: 'llama', dims: { embd: 64, layers: 1, heads: 2, headsKv: 1, headDim: 32, ffn: 64, context: 64 } });
    const open = (spec: GgufSpec) => openGguf({ kind: 'blob', blob: blob(spec) });
    const unknown = { ...fx, metadata: { ...fx.metadata, 'general.architecture': { type: 'string' as const, value: 'gemma3' } } };
    expect(await codeOf(open(unknown).then((f) => loadAnyReferenceModel(f)))).toMatch(/^unknown-architecture: .*"gemma3".*llama, qwen2, qwen3/);
    const noV = { ...fx, tensors: fx.tensors.filter((t) => t.name !== 'blk.0.attn_v.weight') };
    expect(await codeOf(open(noV).then((f) => loadAnyReferenceModel(f)))).toMatch(/^missing-tensor: tensor "blk\.0\.attn_v\.weight"/);
    expect(await codeOf(open(fx).then((f) => loadAnyReferenceModel(f, { memoryLimitBytes: 1000 })))).toMatch(/^out-of-memory: /);
  });
  it('progress reaches the file bytes of every tensor read; an aborted load is refused', async () => {
    const fx = buildDenseFixture({ arch: 'qwen2', dims: { embd: 64, layers: 1, heads: 2, headsKv: 1, headDim: 32, ffn: 64, context: 64 }, qkvBias: true });
    const f = await openGguf({ kind: 'blob', blob: blob(fx) });
    const seen: { loadedBytes: number; totalBytes: number; tensor: string }[] = [];
    await loadAnyReferenceModel(f, { onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => p.tensor).sort()).toEqual(fx.tensors.map((t) => t.name).sort());
    expect(seen.at(-1)!.loadedBytes).toBe(f.tensors.reduce((a, t) => a + t.byteLength, 0));
    const ac = new AbortController();
    ac.abort();
    expect(await codeOf(loadAnyReferenceModel(f, { signal: ac.signal }))).toMatch(/^aborted: /);
    await f.close();
  });
});
