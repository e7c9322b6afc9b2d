import { describe, expect, it } from 'vitest';
import { buildFixture, type FixtureOptions } from '../tools/fixture/fixture.ts';
import { readModelConfig } from './config.ts';
import { checkTensors, expectedTensors } from './weights-spec.ts';

function meta(o: FixtureOptions) {
  const fx = buildFixture(o);
  const m: Record<string, unknown> = Object.fromEntries(Object.entries(fx.metadata).map(([k, v]) => [k, v.value]));
  return { m, tensors: fx.tensors.map((t) => ({ name: t.name, shape: t.shape })), fx };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
  return 'no error';
}

describe('readModelConfig', () => {
  it('deepseek2 absorbed: every field from the metadata, frozen', () => {
    const { m, tensors } = meta({ arch: 'deepseek2', gating: 'sigmoid', dims: { groups: 4, groupsUsed: 2 } });
    const c = readModelConfig(m, tensors);
    expect(Object.isFrozen(c) && Object.isFrozen(c.moe) && Object.isFrozen(c.rope)).toBe(true);
    expect(c).toMatchObject({
      arch: 'deepseek2',
      embd: 64,
      layers: 3,
      heads: 4,
      qLoraRank: 64,
      kvLoraRank: 64,
      qkNope: 32,
      qkRope: 16,
      vHead: 32,
      mla: 'absorbed',
      leadingDense: 1,
      ffn: 96,
      tiedOutput: false,
      indexer: null,
      moe: { experts: 8, used: 2, shared: 1, ffx: 32, groups: 4, groupsUsed: 2, gating: 'sigmoid', weightsNorm: true, weightsScale: 2.5, selectionBias: true },
    });
    expect(c.kqScale).toBeCloseTo(1 / Math.sqrt(48), 7);
    expect(c.vocab).toBe(tensors.find((t) => t.name === 'token_embd.weight')!.shape[1]);
  });

  it('legacy, lite, tied and the default gating', () => {
    const { m, tensors } = meta({ arch: 'deepseek2', attn: 'legacy', lite: true, tied: true });
    delete m['deepseek2.expert_gating_func'];
    const c = readModelConfig(m, tensors);
    expect(c).toMatchObject({ mla: 'legacy', qLoraRank: 0, tiedOutput: true, qkNope: 32, vHead: 32 });
    expect(c.moe!.gating).toBe('softmax');
    expect(expectedTensors(c).map((t) => t.name)).toContain('blk.0.attn_q.weight');
    expect(expectedTensors(c).map((t) => t.name)).toContain('blk.0.attn_kv_b.weight');
  });

  it('YaRN: llama.cpp factors (deepseek2: mscale = mscale_all_dim cancels in rope, kq_scale gets mscale²)', () => {
    const { m, tensors } = meta({ arch: 'deepseek2', yarn: true });
    const c = readModelConfig(m, tensors);
    const mAll = 0.707;
    const msc = 1 + 0.1 * mAll * Math.log(4);
    expect(c.rope).toMatchObject({ scalingType: 'yarn', extFactor: 1, origContext: 64, betaFast: 32, betaSlow: 1 });
    expect(c.rope.freqScale).toBeCloseTo(0.25, 7);
    expect(c.rope.yarnLogMul).toBeCloseTo(mAll, 5);
    // cos/sin end up unscaled: attn_factor · (1 + 0.1 ln 4) = 1
    expect(c.rope.attnFactor * (1 + 0.1 * Math.log(4))).toBeCloseTo(1, 6);
    expect(c.kqScale).toBeCloseTo((msc * msc) / Math.sqrt(48), 6);
  });

  it('deepseek32: indexer fields; key_length must be a multiple of 64', () => {
    const { m, tensors } = meta({ arch: 'deepseek32', dims: { topK: 8 } });
    expect(readModelConfig(m, tensors).indexer).toEqual({ heads: 16, keyLength: 64, topK: 8 });
    expect(codeOf(() => readModelConfig({ ...m, 'deepseek32.attention.indexer.key_length': 96 }, tensors))).toMatch(
      /^bad-metadata: .*indexer\.key_length.*multiple of 64/,
    );
    const noTopK = { ...m };
    delete noTopK['deepseek32.attention.indexer.top_k'];
    expect(codeOf(() => readModelConfig(noTopK, tensors))).toMatch(/^missing-metadata: .*deepseek32\.attention\.indexer\.top_k/);
  });

  it('errors name what is wrong', () => {
    const { m, tensors } = meta({ arch: 'deepseek2' });
    expect(codeOf(() => readModelConfig({ ...m, 'general.architecture': 'llama' }, tensors))).toMatch(
      /^unknown-architecture: .*"llama".*deepseek2, deepseek32/,
    );
    const noEmbd = { ...m };
    delete noEmbd['deepseek2.embedding_length'];
    expect(codeOf(() => readModelConfig(noEmbd, tensors))).toMatch(/^missing-metadata: .*deepseek2\.embedding_length/);
    expect(codeOf(() => readModelConfig({ ...m, 'deepseek2.block_count': 'three' }, tensors))).toMatch(/^bad-metadata: .*deepseek2\.block_count.*string/);
    expect(codeOf(() => readModelConfig({ ...m, 'deepseek2.expert_weights_norm': 1 }, tensors))).toMatch(/^bad-metadata: .*expert_weights_norm.*bool/);
    expect(codeOf(() => readModelConfig({ ...m, 'deepseek2.expert_gating_func': 9 }, tensors))).toMatch(/^bad-metadata: .*expert_gating_func/);
    expect(readModelConfig({ ...m, 'deepseek2.block_count': 3n }, tensors).layers).toBe(3);
  });
});

describe('checkTensors', () => {
  it('accepts the fixture, names a missing tensor, reports expected vs found shapes', () => {
    const { m, tensors } = meta({ arch: 'deepseek32', gating: 'sigmoid' });
    const c = readModelConfig(m, tensors);
    expect(checkTensors(c, tensors).length).toBe(tensors.length);
    expect(
      codeOf(() =>
        checkTensors(
          c,
          tensors.filter((t) => t.name !== 'blk.2.indexer.k_norm.bias'),
        ),
      ),
    ).toMatch(/^missing-tensor: .*"blk\.2\.indexer\.k_norm\.bias"/);
    // a transposed attn_k_b ({kv_lora, nope, H} instead of {nope, kv_lora, H})
    const bad = tensors.map((t) => (t.name === 'blk.1.attn_k_b.weight' ? { ...t, shape: [64, 32, 4] } : t));
    expect(codeOf(() => checkTensors(c, bad))).toBe('wrong-shape: tensor "blk.1.attn_k_b.weight": expected ne [32, 64, 4], found [64, 32, 4]');
  });
});

describe('counts are bounded before anything is sized by them', () => {
  it('a hostile block_count is refused by the config reader and, within bounds, by the tensor check', () => {
    const { m, tensors } = meta({ arch: 'deepseek32', gating: 'sigmoid' });
    // 2^31 - 1 was accepted and the load then allocated per layer until V8 aborted
    for (const v of [2147483647, 2 ** 32 - 1, 18446744073709551615n]) {
      expect(codeOf(() => readModelConfig({ ...m, 'deepseek32.block_count': v }, tensors))).toMatch(
        /^bad-metadata: metadata key "deepseek32\.block_count" (must be an integer in 1\.\.16777216|is out of range)/,
      );
    }
    const c = readModelConfig({ ...m, 'deepseek32.block_count': 1 << 24 }, tensors);
    expect(codeOf(() => checkTensors(c, tensors))).toBe(
      'bad-metadata: metadata key "deepseek32.block_count" (16777216) does not match the file\'s tensors, which hold 3 layers (blk.0 .. blk.2)',
    );
    const fewer = readModelConfig({ ...m, 'deepseek32.block_count': 2 }, tensors);
    expect(codeOf(() => checkTensors(fewer, tensors))).toMatch(/^bad-metadata: .*\(2\) does not match .* 3 layers/);
  });

  it('every other count has the same bound', () => {
    const { m, tensors } = meta({ arch: 'deepseek32', gating: 'sigmoid' });
    for (const k of ['context_length', 'expert_count', 'attention.head_count', 'attention.indexer.top_k', 'attention.kv_lora_rank']) {
      expect(
        codeOf(() => readModelConfig({ ...m, [`deepseek32.${k}`]: 2147483647 }, tensors)),
        k,
      ).toMatch(new RegExp(`^bad-metadata: metadata key "deepseek32\\.${k.replace(/\./g, '\\.')}" must be an integer in \\d+\\.\\.16777216, found 2147483647`));
    }
  });
});
