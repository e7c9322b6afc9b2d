/**
 * A tiny WGSL preprocessor shared by the quantized kernels: `//#if NAME` / `//#else` / `//#endif`
 * lines (NAME a boolean flag, no nesting needed but supported) and `{{KEY}}` text substitutions.
 * Each kernel's variants are spelt in its .wgsl file; the TS dispatcher picks them with flags.
 */
export function preprocess(source: string, flags: Record<string, boolean>, subs: Record<string, string | number> = {}): string {
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
  return out.join('\n').replace(/\{\{(\w+)\}\}/g, (whole, key: string) => {
    if (!(key in subs)) throw new Error(`WGSL preprocessor: no value for ${whole}`);
    return String(subs[key]);
  });
}
