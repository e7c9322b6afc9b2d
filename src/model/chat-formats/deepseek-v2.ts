/**
 * DeepSeek-V2 / V2-Lite / V2.5 and DeepSeek-LLM chat models (the `deepseek-llm` vocabulary), as their
 * tokenizer_config.json template renders a conversation:
 *
 *   <｜begin▁of▁sentence｜>{system}\n\nUser: {u}\n\nAssistant: {a}<｜end▁of▁sentence｜>User: {u}\n\nAssistant:
 *
 * llama.cpp's built-in "deepseek2" writes the same turns and leaves BOS to the tokenizer; we write it,
 * like every format here (the text is encoded without adding specials).
 */
import { withoutReasoning } from './reasoning.ts';
import { DS_BOS, DS_EOS, type ChatFormat } from './types.ts';

export const deepseekV2: ChatFormat = {
  name: 'deepseek-v2',
  label: 'DeepSeek-V2 (deepseek-llm)',
  thinking: false,
  render(messages, { addGenerationPrompt }) {
    let out = DS_BOS;
    for (const m of messages) {
      if (m.role === 'system') out += `${m.content}\n\n`;
      else if (m.role === 'user') out += `User: ${m.content}\n\n`;
      else if (m.role === 'assistant') out += `Assistant: ${withoutReasoning(m.content)}${DS_EOS}`;
    }
    if (addGenerationPrompt) out += 'Assistant:';
    return out;
  },
};
