import { describe, expect, it } from 'vitest';
import { renderChatPrompt } from '../chat-template.ts';
import { realChatTemplate } from '../tokenizer/testing/real-vocab.ts';

/**
 * The real Jinja chat templates of Llama 3 and Qwen3 (each family's tokenizer_config.json) render through
 * the bounded template sandbox to the formats their model cards document, written out here by hand.
 */
const chat = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: 'What is 2+2?' },
];

describe('real chat templates', () => {
  it('Llama 3: header blocks ended by <|eot_id|>, BOS first, the assistant header last', () => {
    const p = renderChatPrompt(realChatTemplate('llama3'), chat, { bosToken: '<|begin_of_text|>', eosToken: '<|end_of_text|>' });
    const turn = (role: string, text: string) => `<|start_header_id|>${role}<|end_header_id|>\n\n${text}<|eot_id|>`;
    expect(p.source).toBe('file');
    expect(p.text).toBe(
      `<|begin_of_text|>${turn('system', 'Be brief.')}${turn('user', 'Hi')}${turn('assistant', 'Hello!')}${turn('user', 'What is 2+2?')}<|start_header_id|>assistant<|end_header_id|>\n\n`,
    );
  });

  it('Qwen3: ChatML turns; thinking off writes an empty think block', () => {
    const turn = (role: string, text: string) => `<|im_start|>${role}\n${text}<|im_end|>\n`;
    const head = `${turn('system', 'Be brief.')}${turn('user', 'Hi')}${turn('assistant', 'Hello!')}${turn('user', 'What is 2+2?')}`;
    const on = renderChatPrompt(realChatTemplate('qwen3'), chat, { eosToken: '<|im_end|>' });
    expect(on.source).toBe('file');
    expect(on.text).toBe(`${head}<|im_start|>assistant\n`);
    const off = renderChatPrompt(realChatTemplate('qwen3'), chat, { eosToken: '<|im_end|>', thinking: false });
    expect(off.text).toBe(`${head}<|im_start|>assistant\n<think>\n\n</think>\n\n`);
  });
});
