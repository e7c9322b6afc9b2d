/**
 * DeepSeek-V3.1 (and V3.1-Terminus), as its tokenizer_config.json template renders a plain conversation.
 * The same as V3 except the assistant turn's opening says whether it thinks:
 *
 *   <｜begin▁of▁sentence｜>{system}<｜User｜>{u}<｜Assistant｜></think>{a}<｜end▁of▁sentence｜><｜User｜>{u}<｜Assistant｜><think>
 *
 * The generation prompt ends with `<think>` in thinking mode and `</think>` otherwise; answered turns
 * always open with `</think>` and keep only the text after their reasoning (the template splits the
 * content at `</think>`).
 */
import { joinedSystem } from './deepseek-v3.ts';
import { THINK_CLOSE, THINK_OPEN, withoutReasoning } from './reasoning.ts';
import { DS_ASSISTANT, DS_BOS, DS_EOS, DS_USER, type ChatFormat } from './types.ts';

export const deepseekV31: ChatFormat = {
  name: 'deepseek-v3.1',
  label: 'DeepSeek-V3.1',
  thinking: true,
  render(messages, { addGenerationPrompt, thinking }) {
    let out = DS_BOS + joinedSystem(messages);
    let lastWasUser = false;
    for (const m of messages) {
      if (m.role === 'user') {
        out += DS_USER + m.content;
        lastWasUser = true;
      } else if (m.role === 'assistant') {
        if (lastWasUser) out += DS_ASSISTANT + THINK_CLOSE;
        out += withoutReasoning(m.content) + DS_EOS;
        lastWasUser = false;
      }
    }
    if (addGenerationPrompt && lastWasUser) out += DS_ASSISTANT + (thinking ? THINK_OPEN : THINK_CLOSE);
    return out;
  },
};
