import { openGguf } from '../src/gguf/reader.ts';
import { createTokenizer } from '../src/model/tokenizer/index.ts';
import { createLlama, llamaGreedy, llamaLogProbs, llamaLogProbsSequential } from '../src/model/reference/testing/llama-ref.ts';
const path = 'public/models/sparsescope-kjv-5m-q8_0.gguf';
const f = await openGguf({ kind: 'path', path });
const tok = createTokenizer(f.metadata);
await f.close();
const llama = await createLlama();
const lm = await llama.loadModel({ modelPath: path });
for (const p of ['And God said', 'The LORD is my shepherd', 'In the beginning']) {
  const ids = tok.encode(p, { addSpecial: true, parseSpecial: true });
  const l = await llamaGreedy(lm, ids, 32);
  const all = [...ids, ...l];
  const a = await llamaLogProbs(lm, all);
  const b = await llamaLogProbsSequential(lm, all);
  let max = 0; for (let i = 0; i < a.length; i++) for (let v = 0; v < a[i].length; v++) { const d = Math.abs(a[i][v] - b[i][v]); if (d > max && a[i][v] > -20) max = d; }
  console.log(p, 'llama prefill vs decode max |Δ lp| =', max.toFixed(4));
}
await lm.dispose(); await llama.dispose();
