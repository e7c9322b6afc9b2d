/** Short plain-language notes beside each view: what the picture means and why the model does it. */
const TEXT = {
  dsa: (
    <>
      <strong>Sparse attention (DSA).</strong> Attending to every earlier token costs more as the text grows. DeepSeek's <em>lightning indexer</em> is a tiny
      attention of its own: it gives every earlier token a cheap relevance score, and the real attention then reads only the top-k of them. Each row is one
      query token; the outlined cells are the tokens it picked. Beside it, ordinary dense attention for the same rows: the bar shows how much of its weight
      falls inside the picked set — close to 100 % means sparse attention lost little.
    </>
  ),
  mla: (
    <>
      <strong>Latent attention (MLA).</strong> Instead of a key and a value for every head, MLA caches one small compressed vector per token (plus one shared
      rotary key) and expands it on the fly. The cache that limits long chats shrinks by ~70× against plain multi-head attention; DSA adds one small index key
      per token.
    </>
  ),
  moe: (
    <>
      <strong>Mixture of experts (MoE).</strong> Each layer has many small feed-forward "experts"; a router sends every token to only a few of them (outlined),
      weighted by the gate. A shared expert sees every token. The histogram shows how evenly the load spreads.
    </>
  ),
  speed: (
    <>
      <strong>Where the time goes.</strong> Time per layer of a few decode steps after the classroom prompt, as the engine measured it, once with the
      classroom's top-k and once dense. With sparse attention the attention part stops growing with the context beyond k tokens.
    </>
  ),
  classroom: (
    <>
      <strong>Classroom.</strong> Step through a text one token at a time. Move the top-k slider: the model re-runs with attention limited to the k tokens the
      indexer picked, and the table shows how the next-token guess changes against full (dense) attention. KL is how far the two distributions differ (0 =
      identical).
    </>
  ),
};

export function Explain({ topic }: { topic: keyof typeof TEXT }) {
  return <aside className="explain">{TEXT[topic]}</aside>;
}
