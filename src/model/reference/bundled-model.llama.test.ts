/**
 * The shipped model (public/models) on the CPU reference against llama.cpp on the same file: three
 * prompts' greedy 32-token continuations are identical; on more prompts, any departure is a near-tie
 * explained by the measured log-prob difference (see testing/bundled-greedy.ts).
 */
import { loadReference, referenceGreedy } from './testing/llama-ref.ts';
import { BUNDLED_MODEL, bundledModelSuite } from './testing/bundled-greedy.ts';

bundledModelSuite('the CPU reference', async () => {
  const { model } = await loadReference(BUNDLED_MODEL);
  return {
    greedy: async (prompt, n) => referenceGreedy(model, prompt, n),
    logits: async (tokens) => {
      const s = model.session();
      return tokens.map((t) => s.step(t).logits);
    },
    close: () => {},
  };
});
