/**
 * DeepSeek-V3 (and R1-era files that share its vocabulary), as the `chat_template` in DeepSeek-V3's
 * tokenizer_config.json renders a plain conversation:
 *
 *   <｜begin▁of▁sentence｜>{system texts joined by "\n\n"}<｜User｜>{u}<｜Assistant｜>{a}<｜end▁of▁sentence｜><｜User｜>{u}<｜Assistant｜>
 *
 * System messages are gathered to the front wherever they stand. (llama.cpp's built-in "deepseek3"
 * writes "\n\n" after the system text; DeepSeek's own template does not, and we follow DeepSeek.)
 * Earlier answers go in without their reasoning. Tool calls are not part of this app's chat.
 */
import { withoutReasoning } from './reasoning.ts';
import { DS_ASSISTANT, DS_BOS, DS_EOS, DS_USER, type ChatFormat, type FormatMessage } from './types.ts';

/** The system texts, joined as DeepSeek's V3/V3.1 templates join them. */
export function joinedSystem(messages: readonly FormatMessage[]): string {
  return messages
    .filter((m) => m.role === 'system')
    .map((m) => m.content)
    .join('\n\n');
}

export const deepseekV3: ChatFormat = {
  name: 'deepseek-v3',
  label: 'DeepSeek-V3',
  thinking: false,
  render(messages, { addGenerationPrompt }) {
    let out = DS_BOS + joinedSystem(messages);
    for (const m of messages) {
      if (m.role === 'user') out += DS_USER + m.content;
      else if (m.role === 'assistant') out += DS_ASSISTANT + withoutReasoning(m.content) + DS_EOS;
    }
    if (addGenerationPrompt) out += DS_ASSISTANT;
    return out;
  },
};
