/**
 * Pre-tokenization the way llama.cpp does it (unicode.cpp `unicode_regex_split`), so our pieces, and
 * therefore our token ids, equal llama.cpp's rather than those of an idealised Unicode regex engine.
 *
 * llama.cpp runs std::regex, which has no \p{..}. A regex that uses Unicode categories is therefore run
 * on a "collapsed" copy of the text in which every non-ASCII code point is replaced by one stand-in
 * character for its category (letters, numbers, punctuation, marks, symbols, other) and every non-ASCII
 * white-space code point by \v; \p{L} in the regex becomes "the letter stand-in or A-Za-z", etc. A
 * regex without categories runs on the real code points, again with non-ASCII white space replaced by
 * \v. We reproduce both modes: this matters where JS's own \s or \p would answer differently (U+3000
 * inside a literal range, U+0085, U+FEFF) — see the tests. llama.cpp also has hand-written splitters
 * for the GPT-2, llama3 and Qwen2 regexes; we checked them line by line against the regex and they
 * agree (their only extra condition, "the code point has some category", holds for every in-range
 * code point), so the same regex path serves them.
 *
 * Pieces are kept as code-point lengths, as in llama.cpp, and each regex further splits every piece:
 * a match and the gap before it both become pieces; a regex never sees across a piece boundary
 * (lookahead and `$` stop at the piece end).
 */

const WHITE_SPACE = /\p{White_Space}/u;
const CATEGORY_TESTS: ReadonlyArray<readonly [RegExp, number]> = [
  [/\p{N}/u, 0xd1],
  [/\p{L}/u, 0xd2],
  [/\p{P}/u, 0xd3],
  [/\p{M}/u, 0xd4],
  [/\p{S}/u, 0xd5],
];
const OTHER = 0xd0;
const VT = 0x0b;

/** Stand-in character codes used in the collapsed text, per \p{..} name llama.cpp recognises. */
const CATEGORY_CLASS: Record<string, string> = {
  N: '\\xD10-9',
  L: '\\xD2A-Za-z',
  P: '\\xD3\\x21-\\x23\\x25-\\x2A\\x2C-\\x2F\\x3A-\\x3B\\x3F-\\x40\\x5B-\\x5D\\x5F\\x7B\\x7D',
  M: '\\xD4',
  S: '\\xD5\\x24\\x2B\\x3C-\\x3E\\x5E\\x60\\x7C\\x7E',
};
// llama.cpp maps the letter subcategories onto "letter" too (it has no finer tables).
for (const sub of ['Lu', 'Ll', 'Lt', 'Lm', 'Lo']) CATEGORY_CLASS[sub] = CATEGORY_CLASS.L;

/** std::regex's \s: ASCII white space only (non-ASCII white space was already turned into \v). */
const ASCII_SPACE = '\\t\\n\\v\\f\\r ';

const collapseCache = new Map<number, number>();

/** The collapsed stand-in for one code point. */
export function collapsedCode(cp: number): number {
  if (cp < 128) return cp;
  let c = collapseCache.get(cp);
  if (c === undefined) {
    const ch = String.fromCodePoint(cp);
    c = WHITE_SPACE.test(ch) ? VT : (CATEGORY_TESTS.find(([re]) => re.test(ch))?.[1] ?? OTHER);
    collapseCache.set(cp, c);
  }
  return c;
}

interface CompiledRegex {
  readonly re: RegExp;
  readonly collapsed: boolean;
}

/** Rewrite a llama.cpp regex for JS: categories to stand-in classes, \s to std::regex's ASCII \s. */
export function compileSplitRegex(source: string): CompiledRegex {
  const collapsed = /\\p\{/.test(source);
  let out = '';
  let inside = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === '\\') {
      const next = source[i + 1];
      const prop = next === 'p' ? /^\\p\{(\w+)\}/.exec(source.slice(i)) : null;
      if (prop) {
        const cls = CATEGORY_CLASS[prop[1]];
        if (!cls) throw new Error(`unsupported category \\p{${prop[1]}}`);
        out += inside ? cls : `[${cls}]`;
        i += prop[0].length - 1;
      } else if (next === 's') {
        out += inside ? ASCII_SPACE : `[${ASCII_SPACE}]`;
        i++;
      } else if (next === 'S') {
        if (inside) throw new Error('\\S inside a character class is not supported');
        out += `[^${ASCII_SPACE}]`;
        i++;
      } else {
        out += ch + next;
        i++;
      }
      continue;
    }
    if (ch === '[' && !inside) inside = true;
    else if (ch === ']' && inside) inside = false;
    out += ch;
  }
  // Collapsed text is one UTF-16 unit per code point; the other mode needs `u` for astral ranges.
  return { re: new RegExp(out, collapsed ? 'g' : 'gu'), collapsed };
}

/**
 * Split `cps` (code points) with the regexes in order; returns the pieces as code-point arrays.
 */
export function regexSplit(cps: readonly number[], regexes: readonly CompiledRegex[]): number[][] {
  let offsets = [cps.length];
  let collapsedText: string | undefined;
  let wideText: { text: string; cpAt16: Int32Array; u16At: Int32Array } | undefined;

  for (const { re, collapsed } of regexes) {
    const next: number[] = [];
    let start = 0;
    for (const len of offsets) {
      let text: string;
      let toCp: (u16: number) => number;
      if (collapsed) {
        collapsedText ??= codesToString(cps.map(collapsedCode));
        text = collapsedText.slice(start, start + len);
        toCp = (u) => u;
      } else {
        wideText ??= buildWide(cps);
        const w = wideText;
        const u0 = w.u16At[start];
        text = w.text.slice(u0, w.u16At[start + len]);
        toCp = (u) => w.cpAt16[u0 + u] - start;
      }
      splitOne(text, re, toCp, len, next);
      start += len;
    }
    offsets = next;
  }

  const pieces: number[][] = [];
  let at = 0;
  for (const len of offsets) {
    pieces.push(cps.slice(at, at + len) as number[]);
    at += len;
  }
  return pieces;
}

function splitOne(text: string, re: RegExp, toCp: (u16: number) => number, len: number, out: number[]): void {
  re.lastIndex = 0;
  let prevEnd = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex++; // our regexes never match empty, but never loop forever either
      continue;
    }
    const s = toCp(m.index);
    const e = toCp(m.index + m[0].length);
    if (s > prevEnd) out.push(s - prevEnd);
    out.push(e - s);
    prevEnd = e;
  }
  if (prevEnd < len) out.push(len - prevEnd);
}

/** Code points with non-ASCII white space as \v (llama.cpp's wregex path), plus index maps. */
function buildWide(cps: readonly number[]) {
  let text = '';
  const u16At = new Int32Array(cps.length + 1);
  for (let i = 0; i < cps.length; i++) {
    u16At[i] = text.length;
    const cp = cps[i];
    text += String.fromCodePoint(cp >= 128 && collapsedCode(cp) === VT ? VT : cp);
  }
  u16At[cps.length] = text.length;
  const cpAt16 = new Int32Array(text.length + 1);
  for (let i = 0; i < cps.length; i++) {
    cpAt16[u16At[i]] = i;
    if (u16At[i + 1] - u16At[i] === 2) cpAt16[u16At[i] + 1] = i;
  }
  cpAt16[text.length] = cps.length;
  return { text, cpAt16, u16At };
}

/** String.fromCharCode in chunks (spreading a long array overflows the call stack). */
function codesToString(codes: readonly number[]): string {
  let s = '';
  for (let i = 0; i < codes.length; i += 8192) s += String.fromCharCode(...codes.slice(i, i + 8192));
  return s;
}

/** String.fromCodePoint in chunks. */
export function codePointsToString(cps: readonly number[]): string {
  let s = '';
  for (let i = 0; i < cps.length; i += 8192) s += String.fromCodePoint(...cps.slice(i, i + 8192));
  return s;
}
