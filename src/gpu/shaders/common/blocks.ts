/**
 * Composes a quantized kernel's WGSL: enable directives, the element type alias `T`, the kernel body
 * and the shared block loaders (blocks.wgsl), with `load_chunk` bound to the weight type's loader.
 */
import type { WeightType } from './quant-types.ts';
import { preprocess } from './wgsl.ts';
import blocksSource from './blocks.wgsl?raw';

const LOADER_NAME: Record<WeightType, string> = {
  F32: 'load_f32',
  F16: 'load_f16',
  BF16: 'load_bf16',
  Q8_0: 'load_q8_0',
  Q4_0: 'load_q4_0',
  Q5_0: 'load_q5_0',
  Q4_K: 'load_q4_k',
  Q5_K: 'load_q5_k',
  Q6_K: 'load_q6_k',
};

export interface ComposeOptions {
  /** The weight type whose loader becomes `load_chunk`. */
  type: WeightType;
  /** Decode and multiply in f16 (needs the device feature `shader-f16`). */
  f16: boolean;
  /** The kernel uses subgroup built-ins (needs the device feature `subgroups`). */
  subgroups: boolean;
}

/**
 * window{n}(b): the n vec4 of words starting at byte offset b (even) of W, from n + 1 aligned vec4 loads.
 * Generated (one function per width) because WGSL has no generics over array length.
 */
function windowFn(n: number): string {
  const loads = Array.from({ length: n + 1 }, (_, i) => `  let v${i} = W[i + ${i}u];`).join('\n');
  const words = Array.from({ length: n }, (_, i) => `  let u${i} = shift_words(v${i}, v${i + 1}, q);`).join('\n');
  const outs = Array.from({ length: n }, (_, i) => `  out[${i}] = shift_half(u${i}, ${i + 1 < n ? `u${i + 1}.x` : `v${n}[q]`}, h);`).join('\n');
  return [
    `fn window${n}(b: u32) -> array<vec4<u32>, ${n}> {`,
    '  let i = b >> 4u;',
    '  let q = (b >> 2u) & 3u;',
    '  let h = (b & 2u) != 0u;',
    loads,
    words,
    `  var out: array<vec4<u32>, ${n}>;`,
    outs,
    '  return out;',
    '}',
  ].join('\n');
}

const WINDOWS = [2, 3, 4, 8].map(windowFn).join('\n\n');

/** The WGSL functions named `load_*` or `window*` in `text`, whole (brace-matched). */
function weightReaders(text: string): string[] {
  const out: string[] = [];
  const re = /^fn (load_\w+|window\d+)\(/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let depth = 0;
    let i = text.indexOf('{', m.index);
    for (; i < text.length; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}' && --depth === 0) break;
    }
    out.push(text.slice(m.index, i + 1));
  }
  return out;
}

/**
 * The weight readers again over a second weight binding `W2`, as `load_chunk2`: WGSL cannot pass a
 * storage array to a function, so each reader that touches W is repeated with W2 (and a `_w2` suffix).
 */
function secondWeightReaders(type: WeightType): string {
  const rename = (f: string) =>
    f
      .replace(/\bW\[/g, 'W2[')
      .replace(/\b(load_\w+|window\d+)\(/g, '$1_w2(');
  const readers = weightReaders(`${preprocess(blocksSource, {})}\n${WINDOWS}`).map(rename);
  return [...readers, `fn load_chunk2(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {\n  return ${LOADER_NAME[type]}_w2(row_byte, c, n);\n}`].join('\n\n');
}

/**
 * The full module text for a kernel body that declares `W: array<vec4<u32>>` and calls `load_chunk`;
 * with `second`, also `W2` (same type) read by `load_chunk2`.
 */
export function composeQuantKernel(body: string, o: ComposeOptions & { second?: boolean }): string {
  return [
    o.f16 ? 'enable f16;' : '',
    o.subgroups ? 'enable subgroups;' : '',
    `alias T = ${o.f16 ? 'f16' : 'f32'};`,
    body,
    preprocess(blocksSource, {}),
    WINDOWS,
    `fn load_chunk(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {\n  return ${LOADER_NAME[o.type]}(row_byte, c, n);\n}`,
    o.second ? secondWeightReaders(o.type) : '',
  ].join('\n');
}
