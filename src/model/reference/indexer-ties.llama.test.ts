import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { writeFixture } from '../../tools/fixture/fixture.ts';
import { compareLogProbs, llamaSuite, llamaGreedy, llamaLogProbs, loadReference, referenceGreedy } from './testing/llama-ref.ts';
import { boundaryTies, TIE_CASES, tieTokens } from './testing/indexer-ties.ts';

/**
 * The CPU reference against llama.cpp on deepseek32 F32 fixtures whose index scores tie (exact
 * zeros from ReLU) at the top-k boundary: which of the tied positions are kept is llama.cpp's
 * std::partial_sort order (indexer-topk.ts), and a different choice moves the logits by nats.
 */
const suite = llamaSuite('ties');

describe('indexer ties at the top-k boundary: CPU reference = llama.cpp', () => {
  for (const { name, fixture, k, n } of TIE_CASES) {
    it(name, async () => {
      const path = join(suite.dir, `${name.replace(/\W+/g, '-')}.gguf`);
      const fx = await writeFixture(path, fixture);
      const { model: ref } = await loadReference(path);
      const ll = await suite.llama.loadModel(path);
      try {
        const tokens = tieTokens(fx.bos, fx.config.vocab, n);
        const { logits, trace } = ref.forward(tokens, { trace: true });
        const ties = boundaryTies(trace, k);
        const d = compareLogProbs(logits, await llamaLogProbs(ll, tokens));
        const prompt = tokens.slice(0, 8);
        const theirs = await llamaGreedy(ll, prompt, 32);
        const ours = referenceGreedy(ref, prompt, 32);
        console.log(
          `ties ${name}: ${ties} (query, layer) rows tie at the top-${k} boundary; CPU reference vs llama.cpp max |Δ log-softmax| ${d.max.toExponential(2)}, mean ${d.mean.toExponential(2)}; greedy 32: ${ours.every((t, i) => t === theirs[i]) ? 'identical' : 'DIFFERENT'}`,
        );
        expect(ties).toBeGreaterThan(0); // else the fixture no longer tests tie-breaking
        expect(d.max).toBeLessThanOrEqual(1e-4);
        expect(ours).toEqual(theirs);
      } finally {
        await ll.dispose();
      }
    });
  }
});
