/**
 * Heavy suite (npm run test:heavy): the full-size twins whose f32 weights fit in memory
 * (testing/heavy-twins.ts, `cpu: true`) through the CPU reference against llama.cpp: F32 within
 * 1e-3; quantized files, with llama.cpp's activation quantization emulated, a mean |Δ log-softmax|
 * under 0.15 and the same argmax wherever llama.cpp's top-2 gap > 0.25. Logs times and peak RSS.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';
import { llamaLogProbs, llamaSuite, loadReference } from './testing/llama-ref.ts';
import { describeAgreement, twinAgreement, twinPrompt } from './testing/twins.ts';
import { peakRssGiB, selectedHeavyTwins, writeHeavyTwin } from './testing/heavy-twins.ts';

const suite = llamaSuite('twin-heavy-ref');

describe('full-size twins: CPU reference = llama.cpp', () => {
  for (const t of selectedHeavyTwins().filter((x) => x.cpu)) {
    it(t.label, async () => {
      const path = join(suite.dir, `${t.label}.gguf`);
      const w = await writeHeavyTwin(t, path);
      const tokens = twinPrompt(w.bos, w.vocab, 16);
      const t0 = performance.now();
      const ll = await suite.llama.loadModel(path);
      const theirs = await llamaLogProbs(ll, tokens);
      await ll.dispose();
      const t1 = performance.now();
      const { model } = await loadReference(path, { emulateActivationQuant: t.shrink.mix !== undefined });
      const ours = model.forward(tokens).logits;
      const t2 = performance.now();
      const a = twinAgreement(ours, theirs);
      console.log(
        `heavy CPU twin ${t.label}: ${(statSync(path).size / 2 ** 30).toFixed(2)} GiB, ${w.layers} layers, ${w.vocab} vocab (${w.types}); ${describeAgreement(a)}; ` +
          `written in ${w.seconds.toFixed(0)} s, llama.cpp ${((t1 - t0) / 1000).toFixed(0)} s, reference load + ${tokens.length} tokens ${((t2 - t1) / 1000).toFixed(0)} s; peak RSS of this process ${peakRssGiB()} GiB`,
      );
      if (t.shrink.mix === undefined) {
        expect(a.maxAbs).toBeLessThan(1e-3);
      } else {
        expect(a.meanAbs).toBeLessThan(0.15);
        expect(a.decisive).toBeGreaterThan(0);
        expect(a.argmaxMismatch).toBe(0);
      }
    });
  }
});
