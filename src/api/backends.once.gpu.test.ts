// One API over both backends: createEngine({ backend: 'webgpu' }) (Dawn) and { backend: 'cpu' } (the
// reference forward over the file's blocks). On the bundled Q8_0 model they give the same greedy reply,
// token for token; their logprobs differ by what the CPU's Q8_0 rounding of each matmul input does (as
// llama.cpp's CPU does; the WebGPU engine keeps f32 inputs): measured max 0.74 nats over the reply's 16
// tokens, mean 0.07 — the bundled model's f32 reference and llama.cpp differ by up to 2.3
// (bundled-model.llama.test.ts). On an F32 file, where neither backend rounds, the same seeded sample
// (the GPU sampler and its CPU twin draw alike) and logprobs that agree to float precision.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFixture } from '../tools/fixture/fixture.ts';
import { createEngine } from './node.ts';

const CHAT = { messages: [{ role: 'user' as const, content: 'In the beginning' }], temperature: 0, max_tokens: 16, logprobs: true, top_logprobs: 2 };
const SAMPLED = { prompt: 'And God said', max_tokens: 16, temperature: 0.8, seed: 5 };

describe('createEngine: webgpu and cpu', () => {
  it('the bundled Q8_0 model: the same greedy reply; logprobs within the Q8_0 input rounding', async () => {
    const [gpu, cpu] = await Promise.all([createEngine({ backend: 'webgpu' }), createEngine({ backend: 'cpu' })]);
    expect((await gpu.load()).backend).toBe('webgpu');
    expect((await cpu.load()).backend).toBe('cpu');
    const [g, c] = [await gpu.chat.completions.create(CHAT), await cpu.chat.completions.create(CHAT)];
    expect(g.choices[0].message.content).toBe(c.choices[0].message.content);
    const gl = g.choices[0].logprobs!.content;
    const cl = c.choices[0].logprobs!.content;
    expect(gl.map((t) => t.token)).toEqual(cl.map((t) => t.token));
    const d = gl.map((t, i) => Math.abs(t.logprob - cl[i].logprob));
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    console.log(`bundled Q8_0, webgpu vs cpu logprobs: max |Δ| ${Math.max(...d).toFixed(4)}, mean ${mean.toFixed(4)} over ${d.length} tokens`);
    expect(Math.max(...d)).toBeLessThan(1);
    expect(mean).toBeLessThan(0.1);
  });

  it('an F32 file: the same seeded sample and logprobs to float precision', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sparsescope-backends-'));
    try {
      const path = join(dir, 'f32.gguf');
      await writeFixture(path, { arch: 'deepseek2', seed: 5 });
      const [gpu, cpu] = await Promise.all([createEngine({ backend: 'webgpu' }), createEngine({ backend: 'cpu' })]);
      await gpu.load(path);
      await cpu.load(path);
      const greedy = { prompt: 'The experts', max_tokens: 8, temperature: 0, logprobs: 1 };
      const [g, c] = [await gpu.completions.create(greedy), await cpu.completions.create(greedy)];
      expect(g.choices[0].text).toBe(c.choices[0].text);
      const [gl, cl] = [g.choices[0].logprobs!.token_logprobs, c.choices[0].logprobs!.token_logprobs];
      expect(gl.length).toBeGreaterThan(0);
      gl.forEach((v, i) => expect(Math.abs(v - cl[i])).toBeLessThan(1e-3));
      expect((await gpu.completions.create(SAMPLED)).choices[0].text).toBe((await cpu.completions.create(SAMPLED)).choices[0].text);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
