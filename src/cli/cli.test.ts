import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixture, type Fixture } from '../tools/fixture/fixture.ts';
import { ReferenceModel } from '../model/reference/forward.ts';
import { weightsFromMap } from '../model/reference/weights.ts';
import { referenceGreedy } from '../model/reference/testing/llama-ref.ts';
import { createTokenizer } from '../model/tokenizer/index.ts';
import { cli } from './testing/run-cli.ts';

let dir: string;
let path: string;
let fx: Fixture;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-cli-'));
  path = join(dir, 'm.gguf');
  fx = await writeFixture(path, { arch: 'deepseek32', gating: 'sigmoid', dims: { topK: 4 }, seed: 2 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cli', () => {
  it('inspect: arch, config and tensors as JSON', async () => {
    const r = await cli('inspect', path);
    const j = JSON.parse(r.stdout);
    expect(j.arch).toBe('deepseek32');
    expect(j.config.indexer.topK).toBe(4);
    expect(j.tensors.find((t: { name: string }) => t.name === 'blk.0.attn_k_b.weight')).toEqual({ name: 'blk.0.attn_k_b.weight', type: 'F32', shape: [32, 64, 4] });
  });

  it('logits with --index-top-k equals the reference; generate --json at temperature 0 is greedy', async () => {
    const r = await cli('logits', path, '--tokens', `${fx.bos},5,9,200,17,3,44`, '--index-top-k', '2');
    const got: number[][] = JSON.parse(r.stdout).logits;
    const ref = new ReferenceModel(fx.config, weightsFromMap(fx.f32));
    const want = ref.forward([fx.bos, 5, 9, 200, 17, 3, 44], { indexTopK: 2 }).logits;
    expect(got).toHaveLength(7);
    got.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - want[i][j])).toBeLessThan(1e-5)));

    const g = await cli('generate', path, '--prompt', 'The experts', '--max-tokens', '6', '--temperature', '0', '--json');
    const out = JSON.parse(g.stdout);
    const plain = Object.fromEntries(Object.entries(fx.metadata).map(([k, v]) => [k, v.value]));
    const prompt = createTokenizer(plain).encode('The experts', { addSpecial: true, parseSpecial: true });
    expect(out.tokens).toEqual(referenceGreedy(ref, prompt, 6).filter((t, i, a) => !a.slice(0, i + 1).includes(fx.eos)));
  });

  it('errors go to stderr with a non-zero exit and nothing on stdout', async () => {
    const w = await cli('logits', path, '--tokens', '1', '--backend', 'metal');
    expect(w.code).not.toBe(0);
    expect(w.stdout).toBe('');
    expect(w.stderr).toMatch(/supported: cpu, webgpu/);
    const m = await cli('logits', path);
    expect(m.code).not.toBe(0);
    expect(m.stderr).toMatch(/--tokens/);
  });
});
