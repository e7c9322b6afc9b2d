/**
 * DeepSeek-V3.2 (and V3.2-Exp), as DeepSeek's `encoding/encoding_dsv32.py` encodes messages (the
 * release ships no Jinja template). Each message renders in place:
 *
 *   system    → {content}                      (no separator between several)
 *   user      → <｜User｜>{u}<｜Assistant｜></think>     (`<think>` instead for the last user turn in thinking mode)
 *   assistant → {a}<｜end▁of▁sentence｜>          (reasoning dropped; an assistant turn after the last user
 *                                               turn in thinking mode keeps it: {reasoning}</think>{a})
 *
 * with BOS in front. The assistant opening is part of the user turn, so there is no separate generation
 * prompt; without `addGenerationPrompt` a final user turn stops after its text.
 */
import { splitReasoning, THINK_CLOSE, THINK_OPEN } from './reasoning.ts';
import { DS_ASSISTANT, DS_BOS, DS_EOS, DS_USER, type ChatFormat } from './types.ts';

export const deepseekV32: ChatFormat = {
  name: 'deepseek-v3.2',
  label: 'DeepSeek-V3.2',
  thinking: true,
  render(messages, { addGenerationPrompt, thinking }) {
    const lastUser = messages.findLastIndex((m) => m.role === 'user');
    let out = DS_BOS;
    messages.forEach((m, i) => {
      if (m.role === 'system') out += m.content;
      else if (m.role === 'user') {
        out += DS_USER + m.content;
        if (i < messages.length - 1 || addGenerationPrompt) out += DS_ASSISTANT + (i === lastUser && thinking ? THINK_OPEN : THINK_CLOSE);
      } else if (m.role === 'assistant') {
        const { reasoning, answer } = splitReasoning(m.content);
        out += (thinking && i > lastUser ? (reasoning ?? '') + THINK_CLOSE : '') + answer + DS_EOS;
      }
    });
    return out;
  },
};
