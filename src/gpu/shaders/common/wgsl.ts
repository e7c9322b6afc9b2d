/**
 * A tiny WGSL preprocessor shared by the quantized kernels: `//#if NAME` / `//#else` / `//#endif`
 * lines (NAME a boolean flag, nesting allowed), `//#unroll VAR COUNT` ... `//#endunroll` (the lines
 * repeated COUNT times with `#VAR` replaced by 0u, 1u, ...; COUNT a number or a `{{KEY}}`), and
 * `{{KEY}}` text substitutions.
 * Unrolling matters: llvmpipe (lavapipe) keeps a loop-indexed local array in per-lane scratch memory
 * when its loop is not unrolled, which made the quantized matvec ~10x slower.
 * Each kernel's variants are spelt in its .wgsl file; the TS dispatcher picks them with flags.
 */
export function preprocess(source: string, flags: Record<string, boolean>, subs: Record<string, string | number> = {}): string {
  return substitute(unroll(conditionals(source, flags), subs), subs);
}

function substitute(text: string, subs: Record<string, string | number>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => {
    if (!(key in subs)) throw new Error(`WGSL preprocessor: no value for ${whole}`);
    return String(subs[key]);
  });
}

function unroll(text: string, subs: Record<string, string | number>): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*\/\/#unroll\s+(\w+)\s+(\S+)/.exec(lines[i]);
    if (!m) {
      if (/^\s*\/\/#endunroll/.test(lines[i])) throw new Error('WGSL preprocessor: #endunroll without #unroll');
      out.push(lines[i]);
      continue;
    }
    let depth = 1;
    let j = i + 1;
    for (; j < lines.length; j++) {
      if (/^\s*\/\/#unroll\b/.test(lines[j])) depth++;
      else if (/^\s*\/\/#endunroll/.test(lines[j]) && --depth === 0) break;
    }
    if (j === lines.length) throw new Error('WGSL preprocessor: unterminated #unroll');
    const count = Number(substitute(m[2], subs));
    if (!Number.isInteger(count) || count < 0) throw new Error(`WGSL preprocessor: bad unroll count ${m[2]}`);
    const body = unroll(lines.slice(i + 1, j).join('\n'), subs);
    const re = new RegExp(`#${m[1]}\\b`, 'g');
    for (let v = 0; v < count; v++) out.push(body.replace(re, `${v}u`));
    i = j;
  }
  return out.join('\n');
}

function conditionals(source: string, flags: Record<string, boolean>): string {
  const out: string[] = [];
  const stack: { on: boolean; parentOn: boolean }[] = [];
  let on = true;
  for (const line of source.split('\n')) {
    const m = /^\s*\/\/#(if|else|endif)\b\s*(!?)(\w*)/.exec(line);
    if (m) {
      const [, directive, neg, name] = m;
      if (directive === 'if') {
        if (!(name in flags)) throw new Error(`WGSL preprocessor: unknown flag ${name}`);
        stack.push({ on, parentOn: on });
        on = on && flags[name] !== (neg === '!');
      } else if (directive === 'else') {
        const top = stack[stack.length - 1];
        if (!top) throw new Error('WGSL preprocessor: #else without #if');
        on = top.parentOn && !on;
      } else {
        const top = stack.pop();
        if (!top) throw new Error('WGSL preprocessor: #endif without #if');
        on = top.parentOn;
      }
      continue;
    }
    if (on) out.push(line);
  }
  if (stack.length) throw new Error('WGSL preprocessor: unterminated #if');
  return out.join('\n');
}
