/**
 * A sampled token's log-probability under the model's distribution (log-softmax of the raw logits, in
 * f64, before temperature and filters, as OpenAI's `logprobs` report it) and the `top` most likely
 * alternatives, descending (ties to the lower id).
 */
import type { TokenLogprob } from '../api/protocol.ts';

export function tokenLogprob(logits: Float32Array, token: number, top: number, text: (id: number) => string): TokenLogprob {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const logZ = max + Math.log(sum);
  const alternatives: TokenLogprob['top'] = [];
  if (top > 0) {
    // Partial selection: keep the `top` best ids seen so far (top ≤ 20, so a sorted insert is cheap).
    const best: number[] = [];
    for (let id = 0; id < logits.length; id++) {
      if (best.length === top && logits[id] <= logits[best[top - 1]]) continue;
      let i = best.length;
      while (i > 0 && logits[best[i - 1]] < logits[id]) i--;
      best.splice(i, 0, id);
      if (best.length > top) best.pop();
    }
    for (const id of best) alternatives.push({ id, text: text(id), logprob: logits[id] - logZ });
  }
  return { logprob: logits[token] - logZ, top: alternatives };
}
