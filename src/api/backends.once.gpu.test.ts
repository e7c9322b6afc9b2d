// One API over both backends: createEngine({ backend: 'webgpu' }) (Dawn) and { backend: 'cpu' } (the
// reference forward) on the bundled model give the same greedy reply, the same seeded sample (the GPU
// sampler and its CPU twin draw alike), and logprobs that agree to float precision.
import { describe, expect, it } from 'vitest';
import { createEngine } from './node.ts';

const CHAT = { messages: [{ role: 'user' as const, content: 'In the beginning' }], temperature: 0, max_tokens: 16, logprobs: true, top_logprobs: 2 };
const SAMPLED = { prompt: 'And God said', max_tokens: 16, temperature: 0.8, seed: 5 };

describe('createEngine: webgpu and cpu', () => {
  it('the same replies and logprobs from both backends', async () => {
    const [gpu, cpu] = await Promise.all([createEngine({ backend: 'webgpu' }), createEngine({ backend: 'cpu' })]);
    expect((await gpu.load()).backend).toBe('webgpu');
    expect((await cpu.load()).backend).toBe('cpu');
    const [g, c] = [await gpu.chat.completions.create(CHAT), await cpu.chat.completions.create(CHAT)];
    expect(g.choices[0].message.content).toBe(c.choices[0].message.content);
    const gl = g.choices[0].logprobs!.content;
    const cl = c.choices[0].logprobs!.content;
    expect(gl.map((t) => t.token)).toEqual(cl.map((t) => t.token));
    gl.forEach((t, i) => expect(Math.abs(t.logprob - cl[i].logprob)).toBeLessThan(1e-3));
    expect((await gpu.completions.create(SAMPLED)).choices[0].text).toBe((await cpu.completions.create(SAMPLED)).choices[0].text);
  });
});
