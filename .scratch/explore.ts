import { openGguf } from '../src/gguf/reader.ts';
import { createTokenizer } from '../src/model/tokenizer/index.ts';
import { createLlama, llamaGreedy, llamaLogProbs, loadReference, referenceGreedy } from '../src/model/reference/testing/llama-ref.ts';
const path = 'public/models/sparsescope-kjv-5m-q8_0.gguf';
const f = await openGguf({ kind: 'path', path });
const tok = createTokenizer(f.metadata);
await f.close();
const llama = await createLlama();
const lm = await llama.loadModel({ modelPath: path });
const { model } = await loadReference(path);
const prompts = ['In the beginning', 'Blessed are the', 'And God said', 'The LORD is my shepherd', 'And it came to pass', 'For God so loved the world', 'And Jesus answered and said unto them', 'Thus saith the LORD', 'Now the serpent was more subtil', 'And the earth was without form', 'Honour thy father and thy mother', 'The heavens declare the glory of God', 'Let us make man in our image', 'In my Father\'s house are many mansions'];
for (const p of prompts) {
  const ids = tok.encode(p, { addSpecial: true, parseSpecial: true });
  const l = await llamaGreedy(lm, ids, 32);
  const r = referenceGreedy(model, ids, 32);
  const d = l.findIndex((t, i) => t !== r[i]);
  let gap = '';
  if (d >= 0) {
    const lp = await llamaLogProbs(lm, [...ids, ...l.slice(0, d)]);
    const last = lp[lp.length - 1];
    gap = `llama lp(its)=${last[l[d]].toFixed(4)} lp(ours)=${last[r[d]].toFixed(4)} gap=${(last[l[d]] - last[r[d]]).toFixed(4)}`;
  }
  console.log(JSON.stringify(p), ids.length, d < 0 ? 'IDENTICAL' : `first diff @${d}`, gap, JSON.stringify(tok.decode(l)));
}
await lm.dispose(); await llama.dispose();
