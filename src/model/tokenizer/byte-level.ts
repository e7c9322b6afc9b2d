/**
 * GPT-2's byte-level alphabet: every byte 0-255 is shown as one printable code point, so a byte-level
 * BPE vocab is a list of ordinary strings. Printable Latin-1 bytes stand for themselves; the other 68
 * bytes (controls, space, 0x7F-0xA0, 0xAD) take code points 256, 257, ... in byte order (space → 'Ġ').
 */
function isSelfPrintable(b: number): boolean {
  return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

export const BYTE_TO_CHAR: readonly string[] = (() => {
  const out: string[] = [];
  let n = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(isSelfPrintable(b) ? b : 256 + n++));
  return out;
})();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** Bytes → byte-level string (one code point per byte). */
export function bytesToByteLevel(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += BYTE_TO_CHAR[b];
  return s;
}
