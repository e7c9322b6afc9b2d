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
 * The readers `loader` calls, itself included (the copies for another binding need no other type's:
 * fewer functions for llvmpipe to compile).
 */
function readersFor(loader: string): string[] {
  const all = new Map(weightReaders(`${preprocess(blocksSource, {})}\n${WINDOWS}`).map((f) => [/^fn (\w+)\(/.exec(f)![1], f]));
  const need = new Set<string>();
  const visit = (name: string) => {
    if (need.has(name) || !all.has(name)) return;
    need.add(name);
    for (const m of all
      .get(name)!
      .slice(name.length + 3)
      .matchAll(/\b(load_\w+|window\d+)\(/g))
      visit(m[1]);
  };
  visit(loader);
  return [...all].filter(([n]) => need.has(n)).map(([, f]) => f);
}

/**
 * The weight readers again over another weight binding (`W2`, `W3`, ...) as `fnName`: WGSL cannot pass a
 * storage array to a function, so each reader that touches W is repeated with that binding (and a suffix).
 */
function otherWeightReaders(type: WeightType, binding: string, fnName: string): string {
  const suffix = `_${binding.toLowerCase()}`;
  const rename = (f: string) => f.replace(/\bW\[/g, `${binding}[`).replace(/\b(load_\w+|window\d+)\(/g, `$1${suffix}(`);
  const readers = readersFor(LOADER_NAME[type]).map(rename);
  return [...readers, `fn ${fnName}(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {\n  return ${LOADER_NAME[type]}${suffix}(row_byte, c, n);\n}`].join(
    '\n\n',
  );
}

/** PAIR's second weight `W2` (same type as W), read by `load_chunk2`. */
function secondWeightReaders(type: WeightType): string {
  return otherWeightReaders(type, 'W2', 'load_chunk2');
}

/**
 * MULTI: `load_chunk` reads the weight the workgroup's matrix lives in, `w_sel` (a private the kernel
 * sets): 0 → W (of o.type), i → W{i+1} of multi[i - 1]; each binding has its own type's reader.
 */
function multiWeightReaders(type: WeightType, multi: readonly WeightType[]): string {
  const first = `fn load_chunk_m0(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {\n  return ${LOADER_NAME[type]}(row_byte, c, n);\n}`;
  const others = multi.map((t, i) => otherWeightReaders(t, `W${i + 2}`, `load_chunk_m${i + 1}`));
  const cases = multi.map((_, i) => `    case ${i + 1}u: {\n      return load_chunk_m${i + 1}(row_byte, c, n);\n    }`).join('\n');
  const select = `fn load_chunk(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {\n  switch (w_sel) {\n${cases}\n    default: {\n      return load_chunk_m0(row_byte, c, n);\n    }\n  }\n}`;
  return [first, ...others, select].join('\n\n');
}

/**
 * SHARED (the MoE shared expert in a gathered dispatch): `load_chunk` reads WS (of `shared`'s type) when
 * the private `w_sel` is 1, else W; with PAIR, `load_chunk2` reads WS2 (same type as WS) or W2 alike.
 */
function sharedWeightReaders(type: WeightType, shared: WeightType, pair: boolean): string {
  const pick = (name: string, main: string, other: string) =>
    `fn ${name}(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {\n  if (w_sel == 1u) {\n    return ${other}(row_byte, c, n);\n  }\n  return ${main}(row_byte, c, n);\n}`;
  return [
    otherWeightReaders(shared, 'WS', 'load_chunk_s'),
    pick('load_chunk', LOADER_NAME[type], 'load_chunk_s'),
    ...(pair
      ? [
          otherWeightReaders(type, 'W2', 'load_chunk_w2'),
          otherWeightReaders(shared, 'WS2', 'load_chunk_s2'),
          pick('load_chunk2', 'load_chunk_w2', 'load_chunk_s2'),
        ]
      : []),
  ].join('\n\n');
}

/**
 * The full module text for a kernel body that declares `W: array<vec4<u32>>` and calls `load_chunk`;
 * with `second`, also `W2` (same type) read by `load_chunk2`; with `multi`, `load_chunk` reads W, W2, W3...
 * (W of `type`, the others of multi's types) as the private `w_sel` says; with `shared`, load_chunk (and
 * load_chunk2) read W or WS (W2 or WS2) as w_sel says.
 */
export function composeQuantKernel(body: string, o: ComposeOptions & { second?: boolean; multi?: readonly WeightType[]; shared?: WeightType }): string {
  const loaders = o.shared
    ? sharedWeightReaders(o.type, o.shared, !!o.second)
    : [
        o.multi?.length
          ? multiWeightReaders(o.type, o.multi)
          : `fn load_chunk(row_byte: u32, c: u32, n: u32) -> array<vec4<T>, 8> {\n  return ${LOADER_NAME[o.type]}(row_byte, c, n);\n}`,
        o.second ? secondWeightReaders(o.type) : '',
      ].join('\n');
  return [
    o.f16 ? 'enable f16;' : '',
    o.subgroups ? 'enable subgroups;' : '',
    `alias T = ${o.f16 ? 'f16' : 'f32'};`,
    body,
    preprocess(blocksSource, {}),
    WINDOWS,
    loaders,
  ].join('\n');
}
