/**
 * The generic format for a vocabulary we do not recognise: readable by any base model and obviously not
 * the model's own, which is why it always comes with a warning.
 *
 *   {BOS}System: {s}\n\nUser: {u}\nAssistant: {a}\nUser: {u}\nAssistant:
 */
import { withoutReasoning } from './reasoning.ts';
import type { ChatFormat } from './types.ts';

const LABEL: Record<string, string> = { system: 'System', user: 'User', assistant: 'Assistant' };

export const fallbackFormat: ChatFormat = {
  name: 'fallback',
  label: 'plain "User:/Assistant:"',
  thinking: false,
  render(messages, { addGenerationPrompt, bosToken }) {
    let out = bosToken;
    for (const m of messages) {
      const label = LABEL[m.role] ?? m.role.charAt(0).toUpperCase() + m.role.slice(1);
      const content = m.role === 'assistant' ? withoutReasoning(m.content) : m.content;
      out += m.role === 'system' ? `${label}: ${content}\n\n` : `${label}: ${content}\n`;
    }
    if (addGenerationPrompt) out += 'Assistant:';
    return out;
  },
};
