// StopScanner over text streamed in arbitrary pieces against the plain answer: the whole text cut before
// the earliest occurrence of any stop sequence.
import { describe, expect, it } from 'vitest';
import { StopScanner } from './stop-scanner.ts';

function scan(pieces: string[], stops: string[]): { text: string; stopped: boolean } {
  const s = new StopScanner(stops);
  let text = '';
  for (const p of pieces) text += s.push(p);
  text += s.flush();
  return { text, stopped: s.stopped };
}

function plain(text: string, stops: string[]): { text: string; stopped: boolean } {
  const hits = stops.map((s) => text.indexOf(s)).filter((i) => i >= 0);
  return hits.length ? { text: text.slice(0, Math.min(...hits)), stopped: true } : { text, stopped: false };
}

/** Deterministic pseudo-random cuts of `text` (an LCG: the test needs variety, not randomness). */
function pieces(text: string, seed: number): string[] {
  const out: string[] = [];
  let x = seed;
  for (let i = 0; i < text.length;) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const n = 1 + (x % 5);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

describe('StopScanner', () => {
  const texts = ['And God said, Let there be light: and there was light.', 'abababac', 'no stop here', 'User: hi\nAssistant: hello\nUser:'];
  const stopSets = [[], ['light'], ['\nUser:'], ['aba', 'bac'], ['ab', 'abac'], ['zz'], [':', 'there']];
  it('cuts where a plain search cuts, however the text is split', () => {
    for (const t of texts) for (const stops of stopSets) for (let seed = 1; seed <= 20; seed++) expect(scan(pieces(t, seed), stops)).toEqual(plain(t, stops));
  });

  it('holds back only what could still become a stop sequence', () => {
    const s = new StopScanner(['\nUser:']);
    expect(s.push('Amen.\nUs')).toBe('Amen.');
    expect(s.push('ually')).toBe('\nUsually');
  });
});
