import { Template } from '@huggingface/jinja';
import { describe, expect, it } from 'vitest';
import { renderChatPrompt } from './chat-template.ts';
import { renderTemplateBounded } from './template-sandbox.ts';

const messages = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: 'List 3.' },
];

// templates that real files carry, in miniature: loops, namespaces, filters, range, macros
const BENIGN = [
  "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}{{ m['content'] }}{% elif m['role'] == 'user' %}{{ '<｜User｜>' + m['content'] }}{% else %}{{ '<｜Assistant｜>' + m['content'] + eos_token }}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<｜Assistant｜>' }}{% endif %}",
  "{% set ns = namespace(sys='') %}{% for m in messages %}{% if m.role == 'system' %}{% set ns.sys = ns.sys + m.content %}{% endif %}{% endfor %}[{{ ns.sys | trim }}]{% for m in messages | rejectattr('role', 'equalto', 'system') %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}",
  "{% macro line(m) %}{{ m.role | upper }}: {{ m.content }}{% endmacro %}{% for i in range(messages | length) %}{{ i }} {{ line(messages[i]) }}\n{% endfor %}{{ range(3, 10, 2) | join(',') }}",
  '{% for m in messages %}{{ loop.index }}/{{ loop.length }} {{ m.content | length }}{% if not loop.last %}, {% endif %}{% endfor %}',
];

describe('bounded template rendering', () => {
  it('renders real-world template shapes exactly as @huggingface/jinja does', () => {
    const items = { messages, add_generation_prompt: true, bos_token: '<s>', eos_token: '</s>' };
    for (const t of BENIGN) expect(renderTemplateBounded(t, items)).toBe(new Template(t).render(items));
  });

  const HOSTILE: [string, string, RegExp][] = [
    ['a billion-element range', '{% for i in range(1000000000) %}x{% endfor %}', /range\(\) of 1,000,000,000 items/],
    [
      'nested loops, 10^10 iterations',
      '{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}',
      /more than 1,000,000 steps|longer than 2000 ms/,
    ],
    [
      'a string doubled 40 times',
      "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
      /string of [\d,]+ characters/,
    ],
    [
      'a list grown by concatenation',
      '{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}',
      /list of [\d,]+ items/,
    ],
    ['unbounded recursion', '{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}', /steps|call stack|failed/],
    ['a huge indent', "{{ 'a\nb' | indent(300000000) }}", /string of|failed/],
  ];
  for (const [name, template, why] of HOSTILE) {
    it(`stops ${name} with a typed 'template' error, and the chat falls back`, () => {
      expect(() => renderTemplateBounded(template, { messages })).toThrow(why);
      const r = renderChatPrompt(template, messages);
      expect(r.source).toBe('fallback');
      expect(r.error?.code).toBe('template');
      expect(r.text.endsWith('Assistant:')).toBe(true);
    });
  }
});
