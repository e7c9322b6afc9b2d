/**
 * The shipped model (public/models) on the CPU reference against llama.cpp on the same file: three
 * prompts' greedy 32-token continuations are identical; on more prompts, any departure is one the
 * measured log-prob difference allows. The same reference rounding its matmul inputs as llama.cpp's CPU
 * backend does continues all of them exactly as llama.cpp (see testing/bundled-greedy.ts).
 */
import { loadReference, referenceGreedy } from './testing/llama-ref.ts';
import { BUNDLED_MODEL, bundledModelSuite, type GreedyBackend } from './testing/bundled-greedy.ts';

const open = (emulateActivationQuant: boolean) => async (): Promise<GreedyBackend & { close(): void }> => {
  const { model } = await loadReference(BUNDLED_MODEL, { emulateActivationQuant });
  return {
    greedy: async (prompt, n) => referenceGreedy(model, prompt, n),
    logits: async (tokens) => {
      const s = model.session();
      return tokens.map((t) => s.step(t).logits);
    },
    close: () => {},
  };
};

bundledModelSuite('the CPU reference', open(false));
bundledModelSuite('the CPU reference rounding activations as llama.cpp does', open(true), { exactOnAll: true });
