/**
 * The CLI on a dense (llama) file, CPU backend: inspect describes it with its GQA memory plan, logits
 * equal the f32 dense reference, --oracle-top-k K ≥ tokens gives the dense logits exactly and a small
 * K the reference's oracle logits, trace records the oracle's picks, generate is the reference's greedy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DenseTransformerReference } from '../model/reference/parts/dense-transformer.ts';
import { weightsFromMap } from '../model/reference/weights.ts';
import { createTokenizer } from '../model/tokenizer/index.ts';
import { writeDenseFixture, type DenseFixture } from '../tools/fixture/dense-fixture.ts';
import { cli } from './testing/run-cli.ts';

let dir: string;
let path: string;
let fx: DenseFixture;
let ref: DenseTransformerReference;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-cli-dense-'));
  path = join(dir, 'llama.gguf');
  fx = await writeDenseFixture(path, { arch: 'llama', seed: 11, dims: { embd: 64, layers: 2, heads: 4, headsKv: 2, headDim: 16, ffn: 128, context: 64 } });
  ref = new DenseTransformerReference(fx.config, weightsFromMap(fx.f32));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOKENS = [5, 9, 200, 17, 3, 44, 120, 8];
const maxDiff = (a: number[][], b: Float32Array[]) => Math.max(...a.map((row, i) => row.reduce((m, v, j) => Math.max(m, Math.abs(v - b[i][j])), 0)));

describe('cli on a dense file', () => {
  it('inspect: arch llama, family dense, its config, the GQA cache in its memory plan', async () => {
    const j = JSON.parse((await cli('inspect', path)).stdout);
    expect(j.arch).toBe('llama');
    expect(j.family).toBe('dense');
    expect(j.config.headsKv).toBe(2);
    // per token: k and v of 2 kv heads × 16 dims, f32, in each of 2 layers
    expect(j.memory.cache.bytesPerToken).toBe(2 * 2 * 16 * 4 * 2);
  });

  it('logits = the dense reference; --oracle-top-k ≥ tokens = dense exactly; --oracle-top-k 2 = the reference oracle', async () => {
    const list = [fx.bos, ...TOKENS].join(',');
    const dense = JSON.parse((await cli('logits', path, '--tokens', list, '--backend', 'cpu')).stdout).logits as number[][];
    const all = JSON.parse((await cli('logits', path, '--tokens', list, '--oracle-top-k', '64')).stdout).logits as number[][];
    const two = JSON.parse((await cli('logits', path, '--tokens', list, '--oracle-top-k', '2')).stdout).logits as number[][];
    const ids = [fx.bos, ...TOKENS];
    expect(maxDiff(dense, ref.forward(ids).logits)).toBeLessThan(1e-4);
    expect(all).toEqual(dense);
    expect(maxDiff(two, ref.forward(ids, { oracleTopK: 2 }).logits)).toBeLessThan(1e-4);
    expect(maxDiff(two, ref.forward(ids).logits)).toBeGreaterThan(1e-3);
  });

  it('trace --oracle-top-k 2 records two picks per row (past the first two), the top-2 of its dense weights', async () => {
    const j = JSON.parse((await cli('trace', path, '--prompt', 'The cat', '--oracle-top-k', '2')).stdout);
    for (const t of j.trace as { pos: number; layers: { attnDense: number[]; oracle: number[] }[] }[]) {
      for (const l of t.layers) {
        expect(l.oracle).toHaveLength(Math.min(2, t.pos + 1));
        const order = l.attnDense.map((w, s) => [w, s]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
        expect(l.oracle).toEqual(
          order
            .slice(0, 2)
            .map((x) => x[1])
            .sort((a, b) => a - b),
        );
      }
    }
  });

  it('generate --json at temperature 0 is the reference greedy', async () => {
    const out = JSON.parse((await cli('generate', path, '--prompt', 'The cat', '--max-tokens', '6', '--temperature', '0', '--json')).stdout);
    const plain = Object.fromEntries(Object.entries(fx.metadata).map(([k, v]) => [k, v.value]));
    const tok = createTokenizer(plain);
    const s = ref.session();
    let logits: Float32Array = new Float32Array(0);
    for (const t of tok.encode('The cat', { addSpecial: true, parseSpecial: true })) logits = s.step(t).logits;
    const want: number[] = [];
    for (let i = 0; i < 6; i++) {
      let best = 0;
      for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
      if (tok.stopIds.has(best)) break;
      want.push(best);
      logits = s.step(best).logits;
    }
    expect(out.tokens).toEqual(want);
  });
});
