import { describe, expect, it } from 'vitest';
import { isSparseScopeError } from '../../errors.ts';
import { createTokenizer } from './index.ts';
import { metadataObject } from './testing/gguf-test-writer.ts';
import { byteLevelBpeKv } from './testing/vocab-fixtures.ts';

describe('createTokenizer errors', () => {
  const meta = metadataObject(byteLevelBpeKv('deepseek-v3'));
  it('names an unknown model and lists the supported ones', () => {
    const e = (() => {
      try {
        createTokenizer({ ...meta, 'tokenizer.ggml.model': 'bert' });
      } catch (err) {
        return err;
      }
    })();
    expect(isSparseScopeError(e) && e.code).toBe('tokenizer');
    expect(String((e as Error).message)).toMatch(/'bert'.*gpt2, llama/);
  });
  it('names an unknown pre-tokenizer and lists the supported ones', () => {
    expect(() => createTokenizer({ ...meta, 'tokenizer.ggml.pre': 'tekken' })).toThrow(/'tekken'.*deepseek-v3.*qwen2/);
  });
});

describe('stream decoder', () => {
  // The fixture vocab has no merges inside this emoji, so it arrives as four one-byte tokens.
  const tok = createTokenizer(metadataObject(byteLevelBpeKv('deepseek-v3')));
  it('never emits half a UTF-8 character', () => {
    const ids = Array.from(new TextEncoder().encode('a🦜b'));
    // In this vocab the byte tokens are ids 0-255 in byte order (see vocab-fixtures), so ids = bytes.
    const dec = tok.createStreamDecoder();
    const parts = ids.map((id) => dec.push(id));
    expect(parts).toEqual(['a', '', '', '', '🦜', 'b']);
    expect(dec.flush()).toBe('');
  });
  it('flushes an unfinished character as U+FFFD', () => {
    const dec = tok.createStreamDecoder();
    expect(dec.push(0xf0)).toBe('');
    expect(dec.flush()).toBe('\uFFFD');
  });
});
