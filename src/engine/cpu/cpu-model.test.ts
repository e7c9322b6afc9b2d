/**
 * CpuModel (quantized blocks, threads, chunked prefill) against the f32 reference forward
 * (loadReferenceModelData: every weight dequantized, one token at a time, one thread) on the bundled
 * Q8_0 model and on quantized fixtures (Q4_K_M mix: Q4_K, Q6_K, Q5_0, Q8_0…; deepseek32 with the
 * indexer; legacy attention): logits within 1e-4 of the largest; 1 and 3 threads bitwise identical;
 * a chunked prefill equal to token-by-token feeding within tolerance; the WebAssembly SIMD decode dots
 * (on wherever Node has SIMD) and the TypeScript ones (simd: false) both within it; weights streamed
 * through staging blocks (a model over the SIMD memory's limit) bitwise the same as weights inside it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openGguf, type GgufFile } from '../../gguf/reader.ts';
import { GgmlType } from '../../gguf/types.ts';
import { ReferenceModel } from '../../model/reference/forward.ts';
import { loadReferenceModelData } from '../../model/reference/weights.ts';
import { writeFixture, type FixtureOptions } from '../../tools/fixture/fixture.ts';
import { CpuModel, PREFILL_CHUNK } from './cpu-model.ts';

const BUNDLED = join(import.meta.dirname, '../../../public/models/sparsescope-kjv-5m-q8_0.gguf');
const dir = mkdtempSync(join(tmpdir(), 'cpu-model-'));
const open: GgufFile[] = [];
const models: CpuModel[] = [];
afterAll(async () => {
  models.forEach((m) => m.destroy());
  await Promise.all(open.map((f) => f.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function file(path: string): Promise<GgufFile> {
  const f = await openGguf({ kind: 'path', path });
  open.push(f);
  return f;
}

async function cpu(f: GgufFile, threads: number): Promise<CpuModel> {
  const m = await CpuModel.load(f, { threads, contextSize: 64 });
  models.push(m);
  return m;
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let d = 0,
    m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

const same = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

async function check(path: string, tokens: number[]): Promise<void> {
  const f = await file(path);
  const { config, weights } = await loadReferenceModelData(f);
  const ref = new ReferenceModel(config, weights).forward(tokens).logits;
  const [one, three] = [await cpu(f, 1), await cpu(f, 3)];
  expect(three.threads).toBe(3);
  expect([one.simd, three.simd, one.simdUnavailable]).toEqual([true, true, undefined]);
  const plain = await CpuModel.load(f, { threads: 1, contextSize: 64, simd: false });
  models.push(plain);
  expect([plain.simd, plain.simdUnavailable]).toEqual([false, 'turned off (simd: false)']);
  const sp = plain.session();
  // weights outside the WebAssembly memory, streamed through each thread's staging block: the same values
  const staged = await CpuModel.load(f, { threads: 3, contextSize: 64, simdMemoryBytes: 1 });
  models.push(staged);
  expect([staged.simd, staged.simdStaged, one.simdStaged]).toEqual([true, true, false]);
  const stagedChunk = (await staged.session().feed(tokens, { allLogits: true })).logits;
  // chunked prefill (one steps() over all tokens), every position's logits
  const chunk1 = (await one.session().feed(tokens, { allLogits: true })).logits;
  const chunk3 = (await three.session().feed(tokens, { allLogits: true })).logits;
  // token by token (the fused single-token kernels)
  const s1 = one.session();
  const s3 = three.session();
  const byToken1: Float32Array[] = [];
  const byTokenPlain: Float32Array[] = [];
  for (const t of tokens) {
    byToken1.push((await s1.feed([t])).logits[0]);
    byTokenPlain.push((await sp.feed([t])).logits[0]);
    const l3 = (await s3.feed([t])).logits[0];
    expect(same(l3, byToken1[byToken1.length - 1])).toBe(true);
  }
  let worst = 0;
  tokens.forEach((_, i) => {
    expect(same(chunk3[i], chunk1[i])).toBe(true);
    expect(same(stagedChunk[i], chunk1[i])).toBe(true);
    worst = Math.max(
      worst,
      maxRelDiff(chunk1[i], ref[i]),
      maxRelDiff(byToken1[i], ref[i]),
      maxRelDiff(chunk1[i], byToken1[i]),
      maxRelDiff(byTokenPlain[i], ref[i]),
    );
  });
  console.log(`${path.split('/').pop()}: max |Δ logit| / max |logit| vs the f32 reference = ${worst.toExponential(2)}`);
  expect(worst).toBeLessThan(1e-4);
}

const tokens = (n: number, vocab: number) => Array.from({ length: n }, (_, i) => (i * 37 + 11) % vocab);

describe('CpuModel', () => {
  it('bundled Q8_0 model: logits = f32 reference; 1 and 3 threads identical; chunked = token by token', async () => {
    await check(BUNDLED, tokens(20, 4000));
  });

  const CASES: [string, FixtureOptions][] = [
    ['deepseek2 Q4_K_M mix', { arch: 'deepseek2', mix: 'Q4_K_M', dims: { embd: 256, qLora: 256, kvLora: 256, ffn: 256, ffx: 256 }, seed: 3 }],
    [
      'deepseek32 (indexer, top-k 4) Q4_K_M mix',
      { arch: 'deepseek32', gating: 'sigmoid', mix: 'Q4_K_M', dims: { embd: 256, qLora: 256, kvLora: 256, ffn: 256, ffx: 256, topK: 4 }, seed: 4 },
    ],
    ['deepseek2 legacy attention, lite, F16', { arch: 'deepseek2', attn: 'legacy', lite: true, qtype: 'F16', seed: 5 }],
    ['deepseek2 Q2_K mix', { arch: 'deepseek2', mix: 'Q2_K', dims: { embd: 256, qLora: 256, kvLora: 256, ffn: 256, ffx: 256 }, seed: 6 }],
  ];
  for (const [name, o] of CASES) {
    it(`${name}: logits = f32 reference; threads identical; chunked = token by token`, async () => {
      const path = join(dir, `${name.replace(/\W+/g, '-')}.gguf`);
      const fx = await writeFixture(path, o);
      await check(path, tokens(12, fx.config.vocab - 2));
    });
  }

  it('a feed longer than one prefill chunk: the last logits (and every position with allLogits) = the f32 reference', async () => {
    const f = await file(BUNDLED);
    const { config, weights } = await loadReferenceModelData(f);
    const ids = tokens(PREFILL_CHUNK + 9, 4000);
    const ref = new ReferenceModel(config, weights).forward(ids).logits;
    const m = await CpuModel.load(f, { threads: 2, contextSize: 2 * PREFILL_CHUNK });
    models.push(m);
    const last = (await m.session().feed(ids)).logits;
    expect(last).toHaveLength(1);
    expect(maxRelDiff(last[0], ref[ref.length - 1])).toBeLessThan(1e-4);
    const all = (await m.session().feed(ids, { allLogits: true })).logits;
    expect(all).toHaveLength(ids.length);
    all.forEach((l, i) => expect(maxRelDiff(l, ref[i])).toBeLessThan(1e-4));
  });

  it("a WebAssembly memory of the model's size refused (as a browser may): the weights stream through staging blocks", async () => {
    const f = await file(BUNDLED);
    const ids = tokens(8, 4000);
    const inMemory = await cpu(f, 2);
    const want = (await inMemory.session().feed(ids, { allLogits: true })).logits;
    const Real = WebAssembly.Memory;
    // refuse anything larger than 64 pages (4 MiB): the ~6 MB model does not fit, the staging arena does
    const Refusing = class extends Real {
      constructor(d: WebAssembly.MemoryDescriptor) {
        if (d.initial > 64) throw new RangeError('WebAssembly.Memory(): could not allocate memory');
        super(d);
      }
    };
    WebAssembly.Memory = Refusing as typeof WebAssembly.Memory;
    let m: CpuModel;
    try {
      m = await CpuModel.load(f, { threads: 2, contextSize: 64 });
    } finally {
      WebAssembly.Memory = Real;
    }
    models.push(m);
    expect([m.simd, m.simdStaged]).toEqual([true, true]);
    const got = (await m.session().feed(ids, { allLogits: true })).logits;
    got.forEach((l, i) => expect(same(l, want[i])).toBe(true));
  });

  it('refuses a weight with a non-finite block scale, naming the tensor and block', async () => {
    const f = await file(BUNDLED);
    const t = f.tensors.find((x) => x.type === GgmlType.Q8_0 && x.name.startsWith('blk.1.'))!;
    const bytes = readFileSync(BUNDLED);
    const block = 3;
    bytes.writeUInt16LE(0x7c00, t.offset + block * 34); // d = +inf
    const path = join(dir, 'inf-scale.gguf');
    writeFileSync(path, bytes);
    await expect(CpuModel.load(await file(path), { threads: 1 })).rejects.toMatchObject({ code: 'non-finite', message: expect.stringContaining(t.name) });
  });

  it('refuses a model whose bytes exceed the memory limit, before reading weights', async () => {
    const f = await file(BUNDLED);
    await expect(CpuModel.load(f, { memoryLimitBytes: 1e6 })).rejects.toMatchObject({
      code: 'out-of-memory',
      message: expect.stringMatching(/needs .*GB.*the given limit/),
    });
    await expect(CpuModel.load(f, { threads: 0 })).rejects.toMatchObject({ code: 'bad-argument' });
  });
});
