/**
 * `--backend webgpu` through the real CLI process: the same logits, greedy tokens and indexer picks as
 * the CPU backend on a sparse deepseek32 fixture (top-k 4 of 12 tokens).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixture } from '../tools/fixture/fixture.ts';
import { cli } from './testing/run-cli.ts';

let dir: string;
let path: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-cli-gpu-'));
  path = join(dir, 'm.gguf');
  await writeFixture(path, { arch: 'deepseek32', gating: 'sigmoid', dims: { topK: 4 }, seed: 2 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cli --backend webgpu', () => {
  it('logits, greedy generation and trace equal the CPU backend', async () => {
    const tokens = '5,17,200,33,1,9,99,120,7,7,64,3';
    const [gpu, cpu] = [await cli('logits', path, '--tokens', tokens, '--backend', 'webgpu'), await cli('logits', path, '--tokens', tokens)];
    expect(gpu.code, gpu.stderr).toBe(0);
    const g: number[][] = JSON.parse(gpu.stdout).logits;
    const c: number[][] = JSON.parse(cpu.stdout).logits;
    let d = 0;
    g.forEach((row, i) => row.forEach((v, j) => (d = Math.max(d, Math.abs(v - c[i][j])))));
    console.log(`cli logits webgpu vs cpu: max |Δ| ${d.toExponential(2)} over ${g.length} positions`);
    expect(d).toBeLessThan(1e-3);

    const args = ['--prompt', 'The experts', '--max-tokens', '12', '--temperature', '0', '--json'];
    const gg = JSON.parse((await cli('generate', path, ...args, '--backend', 'webgpu')).stdout);
    const cg = JSON.parse((await cli('generate', path, ...args)).stdout);
    expect(gg.tokens).toEqual(cg.tokens);

    const gt = JSON.parse((await cli('trace', path, '--prompt', 'sparse attention picks', '--backend', 'webgpu')).stdout);
    const ct = JSON.parse((await cli('trace', path, '--prompt', 'sparse attention picks')).stdout);
    const picks = (t: { trace: { layers: { indexer?: { chosen: number[] } }[] }[] }) => t.trace.map((q) => q.layers.map((l) => l.indexer?.chosen));
    expect(picks(gt)).toEqual(picks(ct));
  });
});
