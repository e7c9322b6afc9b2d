/** The file the fuzzer mutates: a small deepseek32 fixture (MoE, indexer, a template), Q8_0 weights. */
import { buildFixture } from '../fixture/fixture.ts';
import type { GgufValue, GgufValueType } from '../../gguf/value-types.ts';
import type { GgufTensorSpec } from '../../gguf/writer.ts';

export function fuzzBaseSpec(): { metadata: Record<string, { type: GgufValueType; value: GgufValue }>; tensors: GgufTensorSpec[] } {
  const fx = buildFixture({
    arch: 'deepseek32',
    gating: 'sigmoid',
    qtype: 'Q8_0',
    seed: 7,
    dims: {
      embd: 64,
      layers: 2,
      leadingDense: 1,
      heads: 2,
      qLora: 32,
      kvLora: 32,
      nope: 16,
      rope: 16,
      v: 16,
      ffn: 64,
      experts: 4,
      used: 2,
      ffx: 32,
      indexerHeads: 2,
      topK: 4,
      context: 64,
      merges: 40,
    },
  });
  const metadata = {
    ...fx.metadata,
    'tokenizer.chat_template': {
      type: 'string' as const,
      value: '{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}',
    },
  };
  return { metadata, tensors: fx.tensors };
}
