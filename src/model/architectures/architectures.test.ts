/**
 * The architecture descriptions: each dense family read from metadata written as llama.cpp's
 * converter writes it (dense-fixture.ts), its tensor list, and hostile or unsupported metadata
 * refused with typed errors naming the key and what is supported. (Agreement of the forward with
 * llama.cpp: src/model/reference/parts/dense.twin.llama.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { buildFixture } from '../../tools/fixture/fixture.ts';
import { planDenseFixture, type DenseFixtureOptions } from '../../tools/fixture/dense-fixture.ts';
import { checkModelTensors, describeModel } from './index.ts';

const DIMS = { embd: 64, layers: 2, heads: 4, headsKv: 2, headDim: 16, ffn: 96, context: 256 };

function plan(o: Partial<DenseFixtureOptions> & Pick<DenseFixtureOptions, 'arch'>) {
  const p = planDenseFixture({ dims: DIMS, ...o });
  const m: Record<string, unknown> = Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, v.value]));
  return { m, tensors: p.tensors.map((t) => ({ name: t.name, shape: [...t.shape] })), p };
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
  return 'no error';
}

describe('dense architectures: description from metadata', () => {
  it('llama: normal rope, GQA, head_dim from key_length, kq_scale 1/sqrt(head_dim), frozen', () => {
    const { m, tensors } = plan({ arch: 'llama', ropeBase: 500000, rmsEps: 1e-5 });
    const d = describeModel(m, tensors);
    expect(d.kind).toBe('dense');
    const c = d.config;
    expect(Object.isFrozen(c) && Object.isFrozen(c.rope)).toBe(true);
    expect(c).toMatchObject({
      arch: 'llama',
      embd: 64,
      layers: 2,
      heads: 4,
      headsKv: 2,
      headDim: 16,
      qDim: 64,
      ffn: 96,
      ropeStyle: 'normal',
      qkNorm: false,
      qkvBias: false,
      ropeFreqs: false,
      tiedOutput: false,
    });
    expect(c.rope).toMatchObject({ dims: 16, freqBase: 500000, scalingType: 'linear', freqScale: 1, extFactor: 0, attnFactor: 1, yarnLogMul: 0 });
    expect(c.rmsEps).toBeCloseTo(1e-5, 9);
    expect(c.kqScale).toBeCloseTo(0.25, 7);
    expect(c.vocab).toBe(tensors.find((t) => t.name === 'token_embd.weight')!.shape[1]);
  });

  it('llama with rope_freqs and tied output; qwen2 biases; qwen3 QK-norm and heads · head_dim ≠ embd', () => {
    const l = plan({ arch: 'llama', tied: true, ropeFreqs: { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 8192 } });
    expect(describeModel(l.m, l.tensors).config).toMatchObject({ ropeFreqs: true, tiedOutput: true });
    expect(l.tensors.find((t) => t.name === 'rope_freqs.weight')?.shape).toEqual([8]);
    expect(l.tensors.some((t) => t.name === 'output.weight')).toBe(false);

    const q2 = plan({ arch: 'qwen2', qkvBias: true });
    expect(describeModel(q2.m, q2.tensors).config).toMatchObject({ ropeStyle: 'neox', qkvBias: true, qkNorm: false });
    expect(q2.tensors.find((t) => t.name === 'blk.1.attn_k.bias')?.shape).toEqual([32]);

    const q3 = plan({ arch: 'qwen3', dims: { ...DIMS, headDim: 32 } });
    const c3 = describeModel(q3.m, q3.tensors).config;
    expect(c3).toMatchObject({ ropeStyle: 'neox', qkNorm: true, headDim: 32, qDim: 128 });
    expect(q3.tensors.find((t) => t.name === 'blk.0.attn_q.weight')?.shape).toEqual([64, 128]);
    expect(q3.tensors.find((t) => t.name === 'blk.0.attn_output.weight')?.shape).toEqual([128, 64]);
    expect(q3.tensors.find((t) => t.name === 'blk.0.attn_k.weight')?.shape).toEqual([64, 64]);
    expect(q3.tensors.find((t) => t.name === 'blk.0.attn_q_norm.weight')?.shape).toEqual([32]);
  });

  it('the MLA families go through readModelConfig unchanged', () => {
    const fx = buildFixture({ arch: 'deepseek2' });
    const m = Object.fromEntries(Object.entries(fx.metadata).map(([k, v]) => [k, v.value]));
    const d = describeModel(m, fx.tensors);
    expect(d.kind).toBe('mla');
    expect(d.config).toEqual(fx.config);
  });

  it('hostile or unsupported metadata: typed errors naming the key and what is supported', () => {
    const cases: [string, DenseFixtureOptions['arch'], (m: Record<string, unknown>) => void, RegExp][] = [
      [
        'unknown arch',
        'llama',
        (m) => {
          m['general.architecture'] = 'mamba';
        },
        /^unknown-architecture: .*"mamba".*deepseek2, deepseek32, llama, qwen2, qwen3/,
      ],
      [
        'no arch',
        'llama',
        (m) => {
          delete m['general.architecture'];
        },
        /^missing-metadata: .*general\.architecture.*deepseek2, deepseek32, llama, qwen2, qwen3/,
      ],
      [
        'a numeric arch',
        'llama',
        (m) => {
          m['general.architecture'] = 7;
        },
        /^bad-metadata: .*general\.architecture.*must be a string/,
      ],
      [
        'kv heads not dividing heads',
        'llama',
        (m) => {
          m['llama.attention.head_count_kv'] = 3;
        },
        /^bad-metadata: .*llama\.attention\.head_count_kv.*must divide/,
      ],
      [
        'non-uniform per-layer kv heads',
        'qwen3',
        (m) => {
          m['qwen3.attention.head_count_kv'] = [2, 4];
        },
        /^bad-metadata: .*per-layer values.*uniform/,
      ],
      [
        'a string head count',
        'qwen2',
        (m) => {
          m['qwen2.attention.head_count'] = 'four';
        },
        /^bad-metadata: .*qwen2\.attention\.head_count.*must be a number/,
      ],
      [
        'a hostile layer count',
        'llama',
        (m) => {
          m['llama.block_count'] = 2 ** 40;
        },
        /^bad-metadata: .*llama\.block_count.*must be an integer in 1\.\.16777216/,
      ],
      [
        'no rms eps',
        'qwen3',
        (m) => {
          delete m['qwen3.attention.layer_norm_rms_epsilon'];
        },
        /^missing-metadata: .*qwen3\.attention\.layer_norm_rms_epsilon/,
      ],
      [
        'key ≠ value length',
        'qwen3',
        (m) => {
          m['qwen3.attention.value_length'] = 8;
        },
        /^bad-metadata: .*value_length.*must equal attention\.key_length/,
      ],
      [
        'partial rope',
        'llama',
        (m) => {
          m['llama.rope.dimension_count'] = 8;
        },
        /^bad-metadata: .*rope\.dimension_count.*llama\.cpp refuses/,
      ],
      [
        'qwen2 with heads · head_dim ≠ embd',
        'qwen2',
        (m) => {
          m['qwen2.attention.key_length'] = 32;
          m['qwen2.attention.value_length'] = 32;
          m['qwen2.rope.dimension_count'] = 32;
        },
        /^bad-metadata: .*must equal embedding_length/,
      ],
      [
        'MoE llama (Mixtral)',
        'llama',
        (m) => {
          m['llama.expert_count'] = 8;
        },
        /^not-implemented: .*expert_count.*dense/,
      ],
      [
        'an unknown rope scaling',
        'llama',
        (m) => {
          m['llama.rope.scaling.type'] = 'longrope';
        },
        /^not-implemented: .*longrope.*none, linear, yarn/,
      ],
    ];
    for (const [what, arch, edit, want] of cases) {
      const { m, tensors } = plan({ arch });
      edit(m);
      expect(
        errorOf(() => describeModel(m, tensors)),
        what,
      ).toMatch(want);
    }
  });

  it('the tensor check: block_count against the file first, then presence and shape', () => {
    const { m, tensors } = plan({ arch: 'qwen3' });
    const d = describeModel(m, tensors);
    expect(checkModelTensors(d, tensors).length).toBe(tensors.length);
    const noNorm = tensors.filter((t) => t.name !== 'blk.1.attn_k_norm.weight');
    expect(errorOf(() => checkModelTensors(d, noNorm))).toMatch(/^missing-tensor: tensor "blk\.1\.attn_k_norm\.weight" is missing \(expected ne \[16\]/);
    const badK = tensors.map((t) => (t.name === 'blk.0.attn_k.weight' ? { ...t, shape: [64, 64] } : t));
    expect(errorOf(() => checkModelTensors(d, badK))).toMatch(/^wrong-shape: tensor "blk\.0\.attn_k\.weight": expected ne \[64, 32\], found \[64, 64\]/);
    const oneLayer = tensors.filter((t) => !t.name.startsWith('blk.1.'));
    expect(errorOf(() => checkModelTensors(d, oneLayer))).toMatch(/^bad-metadata: .*qwen3\.block_count" \(2\) does not match.*1 layers/);
    // q/k/v biases are all or none once blk.0.attn_q.bias says they are there
    const q2 = plan({ arch: 'qwen2', qkvBias: true });
    const d2 = describeModel(q2.m, q2.tensors);
    expect(
      errorOf(() =>
        checkModelTensors(
          d2,
          q2.tensors.filter((t) => t.name !== 'blk.1.attn_v.bias'),
        ),
      ),
    ).toMatch(/^missing-tensor: tensor "blk\.1\.attn_v\.bias"/);
  });
});
