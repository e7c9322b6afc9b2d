/**
 * The int8-activation matvec (MatvecVariant.q8x): x is first quantized to 8 bits by quantize-x.wgsl as
 * llama.cpp's CPU matmul quantizes it (Q8_0 blocks of 32 for Q8_0 weights, Q8_K blocks of 256 for Q4_K),
 * then each invocation computes one output row with integer dot products per 32-value block (Q8_0:
 * dot4I8Packed; Q4_K: two nibble products per i32 multiply, PAIR_CODE) and one f32 multiply-add per
 * block; the quantized x is read as a uniform array.
 * Why this shape, measured on lavapipe at 4096² (bench-results scratch runs, side by side):
 *  - llvmpipe runs 8 invocations as SIMD lanes and loads an x value at one address for all lanes slowly
 *    from a storage buffer (each load cost ~20 ns), much faster from a uniform buffer, and 8-bit x needs a
 *    quarter of the loads f32 x does: an int8 x in a uniform buffer took the Q8_0 kernel ~19 → ~9 ms.
 *  - llvmpipe still gathers a uniform load at a computed offset lane by lane, and runs the math on x on
 *    every lane: read through subgroupBroadcast(·, 0) (broadcastX) it loads lane 0's only and the rest
 *    follows as one value: Q8_0 0.18 → 0.28 × copy, Q4_K (with PAIR_CODE) 0.16 → 0.25 × copy.
 *  - the weights are read 16 bytes at a time at aligned offsets: 8 Q8_0 blocks are 272 bytes = 17 vec4
 *    (K % 256 == 0 keeps every group aligned), a Q4_K superblock 9 vec4; the byte offsets inside a group
 *    are constants of the generated text, so the 2-byte-aligned Q8_0 blocks cost fixed shifts, no selects.
 *  - one row per invocation: 2 or 4 rows per invocation were slower here (register pressure), also with
 *    the x words loaded once for all rows; so was the group loop unrolled to constant x offsets. Weights
 *    read with textureLoad gained under 10 %: not worth a second copy of every weight.
 * Only where the layout fits (qsSupported): Q8_0 or Q4_K, K % 256 == 0, the quantized x of every vector
 * in one uniform binding; elsewhere matvec.ts runs the f32 kernels.
 */
import { preprocess } from '../common/wgsl.ts';
import type { WeightType } from '../common/quant-types.ts';
import quantizeSource from './quantize-x.wgsl?raw';

export { quantizeSource };

/** The weight types with an int8 kernel, and the block size their activations are quantized in. */
export const Q8X_BLOCK: Partial<Record<WeightType, 32 | 256>> = { Q8_0: 32, Q4_K: 256 };

/**
 * Whether x is written as value pairs (q8xPairs) instead of int8 words: Q4_K's kernel multiplies two
 * nibbles by a pair in one i32 product (PAIR_CODE below).
 */
export function q8xPairs(type: WeightType): boolean {
  return type === 'Q4_K';
}

/**
 * vec4 of the quantized x per vector: the values (K/16 of int8 words, or K/8 of pairs), then K/128 of
 * scales and K/128 of block sums.
 */
export function q8xStride4(k: number, type: WeightType): number {
  return (q8xPairs(type) ? k / 8 : k / 16) + k / 64;
}

/** Whether the int8 kernel runs this product; else the f32 kernels do. */
export function q8xSupported(device: GPUDevice, type: WeightType, k: number, m: number): boolean {
  return Q8X_BLOCK[type] !== undefined && k % 256 === 0 && k > 0 && m * q8xStride4(k, type) * 16 <= device.limits.maxUniformBufferBindingSize;
}

export function quantizeXCode(type: WeightType, norm: boolean): string {
  const bs = Q8X_BLOCK[type]!;
  const pairs = q8xPairs(type);
  return preprocess(quantizeSource, { NORM: norm, Q8_K: bs === 256, PAIRS: pairs }, { BS: bs, VALUE_WORDS_DIV: pairs ? 2 : 4 });
}

const comp = (j: number) => `${'xyzw'[j % 4]}`;

/** Word j of the group's weights (v{j / 4}.{xyzw}). */
const wd = (j: number) => `v${j >> 2}.${comp(j)}`;

/**
 * One group (256 values) of a row from weight binding `w`: `base` its first vec4, `xb` the vec4 of its x
 * in XQ, `sb` the vec4 of its first 32-block's scale (its block sums K/128 vec4 further). Returns the
 * group's contribution to the row's sum.
 */
function groupFn(type: WeightType, w: string, broadcastX: boolean): string {
  const name = `group_${w.toLowerCase()}`;
  const L: string[] = [`fn ${name}(base: u32, xb: u32, sb: u32) -> f32 {`];
  const x = (j: number) => `xw${j >> 2}.${comp(j)}`; // x word j of the group (j < 64), xw{i} = XQ[xb + i]
  const xq = (i: string) => (broadcastX ? `subgroupBroadcast(XQ[${i}], 0u)` : `XQ[${i}]`);
  const xword = (i: number) => `  let xw${i} = ${xq(`xb + ${i}u`)};`;
  const scaleAt = (i: number) => `bitcast<f32>(${xq(`sb + ${i >> 2}u`)}.${comp(i)})`;
  if (type === 'Q8_0') {
    // 8 blocks of 34 bytes: block b at byte 34b; its f16 d, then 32 int8 (bytes 2..33)
    L.push('  var acc = 0.0;');
    let loaded = 0;
    for (let b = 0; b < 8; b++) {
      // each vec4 loaded once, where its first block needs it
      for (; loaded <= (34 * b + 33) >> 4; loaded++) L.push(`  let v${loaded} = ${w}[base + ${loaded}u];`);
      L.push('  {');
      L.push(xword(2 * b), xword(2 * b + 1));
      const o = 34 * b;
      const even = b % 2 === 0;
      const dj = even ? o / 4 : (o - 2) / 4;
      L.push(`    let d = unpack2x16float(${wd(dj)}).${even ? 'x' : 'y'} * ${scaleAt(b)};`);
      const terms: string[] = [];
      for (let q = 0; q < 8; q++) {
        // int8 word q of the block: bytes o + 2 + 4q .. o + 5 + 4q
        const word = even ? `((${wd(dj + q)} >> 16u) | (${wd(dj + q + 1)} << 16u))` : wd(dj + 1 + q);
        terms.push(`dot4I8Packed(${word}, ${x(8 * b + q)})`);
      }
      L.push(`    acc += f32(${terms.join(' + ')}) * d;`);
      L.push('  }');
    }
    L.push('  return acc;', '}');
    return L.join('\n');
  }
  // Q4_K: 144 bytes = 9 vec4: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles.
  for (let v = 0; v < 9; v++) L.push(`  let v${v} = ${w}[base + ${v}u];`);
  L.push(
    '  let dm = unpack2x16float(v0.x);',
    // ggml get_scale_min_k4 for all 8 sub-blocks at once, 4 bytes a word: q = the 12 scale bytes (v0.yzw)
    '  let sc_lo = v0.y & 0x3f3f3f3fu;',
    '  let mn_lo = v0.z & 0x3f3f3f3fu;',
    '  let sc_hi = (v0.w & 0x0f0f0f0fu) | ((v0.y >> 2u) & 0x30303030u);',
    '  let mn_hi = ((v0.w >> 4u) & 0x0f0f0f0fu) | ((v0.z >> 2u) & 0x30303030u);',
    '  var isum = 0;',
  );
  const byteOf = (word: string, i: number) => `i32(extractBits(${word}, ${8 * i}u, 8u))`;
  // Sub-block j's Σ q·x, 4 weight words at a time: nibble pairs as 16-bit lanes times the x pairs
  // quantize-x.wgsl wrote, one i32 multiply per two products (see PAIR_CODE for the bounds)
  const xpair = (j: number, odd: boolean) => `bitcast<i32>(xp${j >> 1}.${comp(2 * (j & 1) + (odd ? 1 : 0))})`; // x word j's pair
  for (let j = 0; j < 8; j++) {
    L.push('  {');
    for (let i = 4 * j; i < 4 * j + 4; i++) L.push(`  let xp${i} = ${xq(`xb + ${i}u`)};`);
    const pair = j >> 1;
    const shift = 4 * (j & 1);
    const halves: string[] = [];
    for (let h = 0; h < 2; h++) {
      const terms: string[] = [];
      for (let q = 4 * h; q < 4 * h + 4; q++) {
        const src = `v${1 + 2 * pair + (q >> 2)}.${comp(q)}`;
        terms.push(
          `i32((${src} >> ${shift}u) & 0x000f000fu) * ${xpair(8 * j + q, false)}`,
          `i32((${src} >> ${shift + 8}u) & 0x000f000fu) * ${xpair(8 * j + q, true)}`,
        );
      }
      halves.push(`high16(${terms.join(' + ')})`);
    }
    L.push(`    isum += ${byteOf(j < 4 ? 'sc_lo' : 'sc_hi', j % 4)} * (${halves.join(' + ')});`);
    L.push('  }');
  }
  // Σ_j m_j · Σ q over sub-block j, the block sums written by quantize-x.wgsl
  const sums = (i: number) => `bitcast<vec4<i32>>(${xq(`sb + ${i}u + p.k / 128u`)})`;
  L.push(
    `  let s0 = ${sums(0)};`,
    `  let s1 = ${sums(1)};`,
    `  let mlo = vec4<i32>(${[0, 1, 2, 3].map((i) => byteOf('mn_lo', i)).join(', ')});`,
    `  let mhi = vec4<i32>(${[0, 1, 2, 3].map((i) => byteOf('mn_hi', i)).join(', ')});`,
    '  let msum = dot(mlo, s0) + dot(mhi, s1);',
    `  return ${scaleAt(0)} * (dm.x * f32(isum) - dm.y * f32(msum));`,
    '}',
  );
  return L.join('\n');
}

/**
 * Two products per i32 multiply for Q4_K's nibbles (n, 0..15) times int8 x (|x| <= 127, quantize-x.wgsl):
 * a weight word's nibbles of bytes 0 and 2 as 16-bit lanes, n0 + n2·2^16, times the pair x2 + x0·2^16 is
 * n0·x2 + (n0·x0 + n2·x2)·2^16 + n2·x0·2^32: the wanted sum sits in the high half, a cross term below it
 * (the 2^32 one falls off). Over 8 such products the cross terms stay within ±15,240 and the sums within
 * ±30,480, both inside 16 signed bits, so high16 recovers the sum exactly: integer math, the same result
 * as dot4I8Packed, with half the multiplies and no byte extraction of the weights. high16 rounds
 * instead of subtracting the low half: (s + 2^15) >> 16 is the high half exactly while the cross terms
 * stay within ±2^15, in two operations instead of four; s + 2^15 stays below 2^31 (30,480·2^16 + 15,240
 * + 2^15). The pairs come packed from quantize-x.wgsl: packing them here cost lavapipe as much as the
 * products (it ran on all lanes).
 */
const PAIR_CODE = `fn high16(s: i32) -> i32 {
  return (s + 32768) >> 16u;
}`;

export interface Q8xKernel {
  type: WeightType;
  k: number;
  m: number;
  wg: number;
  pair: boolean;
  accumulate: boolean;
  /** rows per invocation (default 1), each x word loaded once for all */
  rpi?: number;
  /**
   * Read x through subgroupBroadcast(·, 0) (needs the subgroups feature): every lane loads the same x,
   * and llvmpipe, which otherwise gathers that load lane by lane, then keeps lane 0's load only and
   * treats the value as one scalar (the bench's 4096² products on lavapipe: 1.5x). Lane 0 is active there:
   * the kernel has no early return.
   */
  broadcastX?: boolean;
}

/** The matvec kernel over the quantized x (bindings: 0 params, 1 W, 2 XQ uniform, 3 Y, 4 W2 with pair). */
export function q8xMatvecCode(o: Q8xKernel, paramsStruct: string): string {
  const stride4 = q8xStride4(o.k, o.type);
  // vec4 of a group's x values (256 int8, or 256 pairs of i32), and where the scales start
  const xGroup4 = q8xPairs(o.type) ? 32 : 16;
  const groupVec4 = o.type === 'Q8_0' ? 17 : 9;
  const rpi = o.rpi ?? 1;
  const rows = (f: (r: number) => string) => Array.from({ length: rpi }, (_, r) => f(r));
  const lines = [
    o.broadcastX ? 'enable subgroups;' : '',
    paramsStruct,
    '@group(0) @binding(0) var<uniform> p: Params;',
    '@group(0) @binding(1) var<storage, read> W: array<vec4<u32>>;',
    `@group(0) @binding(2) var<uniform> XQ: array<vec4<u32>, ${o.m * stride4}>;`,
    '@group(0) @binding(3) var<storage, read_write> Y: array<f32>;',
    o.pair ? '@group(0) @binding(4) var<storage, read> W2: array<vec4<u32>>;' : '',
    `const WG: u32 = ${o.wg}u;`,
    'fn silu(g: f32) -> f32 {\n  return g / (1.0 + exp(min(-g, 80.0)));\n}',
    o.type === 'Q4_K' ? PAIR_CODE : '',
    groupFn(o.type, 'W', !!o.broadcastX),
    o.pair ? groupFn(o.type, 'W2', !!o.broadcastX) : '',
    '@compute @workgroup_size(WG)',
    'fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {',
    // rows wid.x * WG * RPI + lid + r * WG; no early return (llvmpipe's uniform loads want every lane
    // active, and broadcastX reads lane 0's x): rows past the end redo the last one and skip the write
    `  let row0 = wid.x * WG * ${rpi}u + lid;`,
    '  let vec_index = wid.y;',
    `  let x4 = vec_index * ${stride4}u;`,
    `  let s0 = x4 + p.k / ${256 / xGroup4}u;`,
    ...rows(
      (r) => `  let base${r} = min(row0 + ${r * o.wg}u, p.rows - 1u) * (p.row_bytes / 16u);\n  var acc${r} = 0.0;${o.pair ? `\n  var acc2_${r} = 0.0;` : ''}`,
    ),
    '  for (var g = 0u; g < p.k / 256u; g++) {',
    ...rows((r) =>
      [
        `    acc${r} += group_w(base${r} + g * ${groupVec4}u, x4 + g * ${xGroup4}u, s0 + g * 2u);`,
        o.pair ? `    acc2_${r} += group_w2(base${r} + g * ${groupVec4}u, x4 + g * ${xGroup4}u, s0 + g * 2u);` : '',
      ].join('\n'),
    ),
    '  }',
    ...rows((r) =>
      [
        `  if (row0 + ${r * o.wg}u < p.rows) {`,
        `    let yi = vec_index * p.n_out + p.y_offset + row0 + ${r * o.wg}u;`,
        `    Y[yi] ${o.accumulate ? '+=' : '='} ${o.pair ? `silu(acc${r}) * acc2_${r}` : `acc${r}`};`,
        '  }',
      ].join('\n'),
    ),
    '}',
  ];
  return lines.filter((l) => l !== '').join('\n');
}
