import { describe, expect, it } from 'vitest';
import { splitReasoning, withoutReasoning } from './reasoning.ts';

const REPLY = '<think>Two and two.\nFour.</think>\n\nIt is 4.';

describe('splitReasoning', () => {
  it('splits a complete reply, with or without the opening tag', () => {
    expect(splitReasoning(REPLY)).toEqual({ reasoning: 'Two and two.\nFour.', answer: '\n\nIt is 4.', open: false });
    // thinking mode: the prompt ended with <think>, so the reply only closes it
    expect(splitReasoning('Two and two.</think>It is 4.')).toEqual({ reasoning: 'Two and two.', answer: 'It is 4.', open: false });
    expect(splitReasoning('Just an answer.')).toEqual({ reasoning: null, answer: 'Just an answer.', open: false });
    expect(splitReasoning('  <think>x</think>y').reasoning).toBe('x');
  });

  it('a reply stopped inside its reasoning is all reasoning', () => {
    expect(splitReasoning('<think>still going')).toEqual({ reasoning: 'still going', answer: '', open: true });
    expect(withoutReasoning('<think>still going')).toBe('');
    expect(withoutReasoning(REPLY)).toBe('\n\nIt is 4.');
  });

  it('every prefix of a streamed reply, cut anywhere (tags across tokens), never shows part of a tag', () => {
    for (const [full, startsInside] of [
      [REPLY, false],
      ['Two and two.</think>It is 4.', true],
    ] as const) {
      let lastReasoning = '';
      let lastAnswer = '';
      for (let n = 0; n <= full.length; n++) {
        const s = splitReasoning(full.slice(0, n), { streaming: true, startsInside });
        const shown = `${s.reasoning ?? ''}${s.answer}`;
        expect(shown).not.toMatch(/<\/?t?h?i?n?k?$|<\/?think>/);
        // what is shown only grows: text never jumps from the answer back into the reasoning
        expect((s.reasoning ?? '').startsWith(lastReasoning)).toBe(true);
        expect(s.answer.startsWith(lastAnswer)).toBe(true);
        lastReasoning = s.reasoning ?? '';
        lastAnswer = s.answer;
      }
      expect(splitReasoning(full, { streaming: true, startsInside })).toEqual(splitReasoning(full, { startsInside }));
    }
  });

  it('streaming with startsInside: reasoning from the first token, a closing tag split over tokens held back', () => {
    expect(splitReasoning('Hmm', { streaming: true, startsInside: true })).toEqual({ reasoning: 'Hmm', answer: '', open: true });
    expect(splitReasoning('Hmm</th', { streaming: true, startsInside: true })).toEqual({ reasoning: 'Hmm', answer: '', open: true });
    expect(splitReasoning('Hmm</think>A', { streaming: true, startsInside: true })).toEqual({ reasoning: 'Hmm', answer: 'A', open: false });
    expect(splitReasoning('<th', { streaming: true })).toEqual({ reasoning: null, answer: '', open: false });
    expect(splitReasoning('<b>', { streaming: true })).toEqual({ reasoning: null, answer: '<b>', open: false });
  });
});
