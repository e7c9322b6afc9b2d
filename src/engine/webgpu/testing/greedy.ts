/** Test helper: a greedy continuation on the WebGPU engine from its logits (argmax, ties to the lower id). */
import type { WebGpuModel } from '../webgpu-model.ts';

export async function webGpuGreedy(model: WebGpuModel, prompt: number[], n: number): Promise<number[]> {
  const s = model.session();
  let logits = (await s.feed(prompt)).logits[0];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
    out.push(best);
    if (i + 1 < n) logits = (await s.feed([best])).logits[0];
  }
  return out;
}
