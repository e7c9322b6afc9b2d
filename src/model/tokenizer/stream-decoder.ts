/** Incremental text from a token stream. */
export interface StreamDecoder {
  /** Add one token; returns the text that is now complete (possibly ''). */
  push(id: number): string;
  /** End of stream: returns what is left; an unfinished character comes out as U+FFFD. */
  flush(): string;
}

/**
 * Tokens split UTF-8 characters (an emoji is often 2-4 byte tokens), so decoding token by token would
 * print replacement characters. TextDecoder in streaming mode keeps the incomplete tail of a character
 * until the next bytes arrive. Pieces are raw (no leading-space strip, no clean-up): a stream is a
 * continuation, not a whole text.
 */
export function createStreamDecoder(tokenToBytes: (id: number) => Uint8Array): StreamDecoder {
  let decoder = new TextDecoder('utf-8');
  return {
    push(id) {
      return decoder.decode(tokenToBytes(id), { stream: true });
    },
    flush() {
      const rest = decoder.decode();
      decoder = new TextDecoder('utf-8');
      return rest;
    },
  };
}
