import { describe, expect, it } from 'vitest';
import { describeChatFormat, renderChatPrompt } from './chat-template.ts';

// A DeepSeek-V3-style template, shortened: BOS, system prompt first, then role markers.
const DEEPSEEK_LIKE =
  "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}{{ m['content'] }}{% elif m['role'] == 'user' %}{{ '<｜User｜>' + m['content'] }}{% else %}{{ '<｜Assistant｜>' + m['content'] + eos_token }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<｜Assistant｜>' }}{% endif %}";

const messages = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: '2+2?' },
];

describe('renderChatPrompt', () => {
  it('renders the file template with BOS/EOS and the generation prompt', () => {
    const r = renderChatPrompt(DEEPSEEK_LIKE, messages, { bosToken: '<s>', eosToken: '</s>' });
    expect(r).toMatchObject({ source: 'file', thinking: false, text: '<s>Be brief.<｜User｜>Hi<｜Assistant｜>Hello!</s><｜User｜>2+2?<｜Assistant｜>' });
    expect(renderChatPrompt(DEEPSEEK_LIKE, messages, { addGenerationPrompt: false }).text.endsWith('2+2?')).toBe(true);
  });

  it('falls back to a plain format without a template', () => {
    const r = renderChatPrompt(undefined, messages);
    expect(r.source).toBe('fallback');
    expect(r.warning).toMatch(/no chat template/);
    expect(r.text).toBe('System: Be brief.\n\nUser: Hi\nAssistant: Hello!\nUser: 2+2?\nAssistant:');
  });

  it('falls back with a warning when the template does not parse or throws', () => {
    const broken = renderChatPrompt('{% for m in messages %}{{ m.content ', messages);
    expect(broken.source).toBe('fallback');
    expect(broken.warning).toMatch(/template failed/);
    const throwing = renderChatPrompt("{{ raise_exception('nope') }}", messages);
    expect(throwing.source).toBe('fallback');
    expect(throwing.text.endsWith('Assistant:')).toBe(true);
  });

  it('a template gets the thinking switch when asked, and earlier answers without their reasoning', () => {
    // the shape of DeepSeek-V3.1's generation prompt and Qwen3's switch
    const t =
      '{% for m in messages %}[{{ m.role }}]{{ m.content }}{% if m.reasoning_content %}({{ m.reasoning_content }}){% endif %}{% endfor %}{% if thinking %}<think>{% elif enable_thinking is defined %}</think>{% endif %}';
    const m = [
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: '<think>r</think>a' },
      { role: 'user', content: 'Q' },
    ];
    expect(renderChatPrompt(t, m, { thinking: true })).toMatchObject({ source: 'file', thinking: true, text: '[user]Hi[assistant]a(r)[user]Q<think>' });
    expect(renderChatPrompt(t, m, { thinking: false })).toMatchObject({ thinking: false, text: '[user]Hi[assistant]a(r)[user]Q</think>' });
    expect(renderChatPrompt(t, m).text).toBe('[user]Hi[assistant]a(r)[user]Q');
  });

  it('describeChatFormat: a template has a thinking mode when it reads one; a family as its format says', () => {
    expect(describeChatFormat(DEEPSEEK_LIKE, undefined)).toEqual({ format: 'file', label: "the file's chat template", thinking: false });
    expect(describeChatFormat('{% if thinking %}<think>{% endif %}', undefined).thinking).toBe(true);
    expect(describeChatFormat(undefined, undefined)).toMatchObject({ format: 'fallback', thinking: false });
  });
});
