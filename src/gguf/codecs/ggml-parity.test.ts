/**
 * Parity with llama.cpp itself: a tiny C harness (our code: it only declares the prototypes) is
 * linked against the libggml-base.so that node-llama-cpp installs, and calls ggml's
 * quantize_row_*_ref, dequantize_row_* and fp32->fp16/bf16 on the same inputs as our codecs.
 * Expect: quantized bytes identical, dequantized values bit-identical (also on random bytes).
 * Skipped when there is no C compiler or no linux-x64 prebuilt library.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dequantize, quantize } from './index.ts';
import { f32ToBf16, f32ToF16 } from './half.ts';
import { GgmlType, blockLayout } from '../types.ts';

const LIB_DIR = resolve('node_modules/@node-llama-cpp/linux-x64/bins/linux-x64');
const hasCc = (() => {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const available = process.platform === 'linux' && process.arch === 'x64' && hasCc && existsSync(join(LIB_DIR, 'libggml-base.so'));

const TYPES = ['q4_0', 'q4_1', 'q5_0', 'q5_1', 'q8_0', 'q2_K', 'q3_K', 'q4_K', 'q5_K', 'q6_K'] as const;

const HARNESS = `#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
typedef void (*qf)(const float *, void *, int64_t);
typedef void (*df)(const void *, float *, int64_t);
${TYPES.map((t) => `void quantize_row_${t}_ref(const float *, void *, int64_t); void dequantize_row_${t}(const void *, float *, int64_t);`).join('\n')}
uint16_t ggml_fp32_to_fp16(float); uint16_t ggml_fp32_to_bf16(float);
static qf Q[] = { ${TYPES.map((t) => `(qf)quantize_row_${t}_ref`).join(', ')} };
static df D[] = { ${TYPES.map((t) => `(df)dequantize_row_${t}`).join(', ')} };
static void *slurp(const char *p, long *n) { FILE *f = fopen(p, "rb"); fseek(f, 0, 2); *n = ftell(f); fseek(f, 0, 0); void *b = malloc(*n); if (fread(b, 1, *n, f) != (size_t)*n) exit(2); fclose(f); return b; }
static void spill(const char *p, const void *b, long n) { FILE *f = fopen(p, "wb"); fwrite(b, 1, n, f); fclose(f); }
/* usage: h dir type_index qbytes rand_values  (values in dir/x.f32, random blocks in dir/r.bin) */
int main(int argc, char **argv) {
  char p[4096]; long nx, nr; int t = atoi(argv[2]); long qb = atol(argv[3]); long rv = atol(argv[4]);
  snprintf(p, sizeof p, "%s/x.f32", argv[1]); float *x = slurp(p, &nx); long n = nx / 4;
  snprintf(p, sizeof p, "%s/r.bin", argv[1]); void *r = slurp(p, &nr);
  void *q = malloc(qb); float *y = malloc(nx); float *ry = malloc(rv * 4);
  Q[t](x, q, n); D[t](q, y, n); D[t](r, ry, rv);
  snprintf(p, sizeof p, "%s/q.bin", argv[1]); spill(p, q, qb);
  snprintf(p, sizeof p, "%s/y.f32", argv[1]); spill(p, y, nx);
  snprintf(p, sizeof p, "%s/ry.f32", argv[1]); spill(p, ry, rv * 4);
  uint16_t *h = malloc(n * 2), *b = malloc(n * 2);
  for (long i = 0; i < n; i++) { h[i] = ggml_fp32_to_fp16(x[i]); b[i] = ggml_fp32_to_bf16(x[i]); }
  snprintf(p, sizeof p, "%s/f16.bin", argv[1]); spill(p, h, n * 2);
  snprintf(p, sizeof p, "%s/bf16.bin", argv[1]); spill(p, b, n * 2);
  return 0;
}
`;

/** Blocks of different character: gaussian, offsets, outliers, zeros, constants, tiny and huge values. */
function inputs(blocks: number): Float32Array {
  const x = new Float32Array(256 * blocks);
  let s = 42;
  const rnd = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < 256; i++) {
      const g = rnd() + rnd() + rnd() + rnd() - 2;
      const v = [
        g,
        g * 1e-3 + 0.01,
        i % 32 === 0 ? 0 : g * 100,
        0,
        0.5,
        -Math.abs(g) - 1,
        Math.abs(g) + 1,
        g * (i % 17 === 0 ? 50 : 1),
        g * 1e-6,
        Math.round(g * 8) / 8,
        (i % 16) - 8,
        g * 70 * (rnd() < 0.01 ? 1000 : 1),
      ][b % 12];
      x[256 * b + i] = v;
    }
  }
  return x;
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

describe('bit parity with llama.cpp (node-llama-cpp libggml-base)', () => {
  it('quantize_row_*_ref bytes, dequantize_row_* values, fp16/bf16 conversions', () => {
    // A missing C compiler or llama.cpp library is a failure here, not a skip: npm install provides the
    // library and every supported machine has cc.
    expect(available, "needs a C compiler (cc) and node-llama-cpp's linux-x64 libggml-base.so").toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'ggml-parity-'));
    try {
      writeFileSync(join(dir, 'h.c'), HARNESS);
      execFileSync('cc', ['-O1', join(dir, 'h.c'), '-o', join(dir, 'h'), `-L${LIB_DIR}`, '-l:libggml-base.so', `-Wl,-rpath,${LIB_DIR}`, '-lm']);
      const x = inputs(96);
      writeFileSync(join(dir, 'x.f32'), x);
      const rand = new Uint8Array(110 * 84 * 4);
      let s = 7;
      for (let i = 0; i < rand.length; i++) rand[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
      writeFileSync(join(dir, 'r.bin'), rand);
      const names = ['Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K'] as const;
      names.forEach((name, t) => {
        const type = GgmlType[name];
        const { blockSize, bytesPerBlock } = blockLayout(type);
        const ours = quantize(type, x);
        const randValues = Math.floor(rand.length / bytesPerBlock) * blockSize;
        execFileSync(join(dir, 'h'), [dir, String(t), String(ours.length), String(randValues)]);
        const theirs = new Uint8Array(readFileSync(join(dir, 'q.bin')));
        expect(ours, `${name} quantized bytes`).toEqual(theirs);
        const y = new Float32Array(new Uint8Array(readFileSync(join(dir, 'y.f32'))).buffer);
        expect(bits(dequantize(type, theirs, x.length)), `${name} dequantized`).toEqual(bits(y));
        const ry = new Float32Array(new Uint8Array(readFileSync(join(dir, 'ry.f32'))).buffer);
        const ourRy = dequantize(type, rand, randValues);
        // random scale bits include f16 NaNs: compare NaN as NaN, everything else by bits
        const mismatch = Array.from(ry).findIndex((v, i) => !(Object.is(v, ourRy[i]) || (Number.isNaN(v) && Number.isNaN(ourRy[i]))));
        expect(mismatch, `${name} dequantized random blocks`).toBe(-1);
      });
      const h = new Uint16Array(new Uint8Array(readFileSync(join(dir, 'f16.bin'))).buffer);
      const b = new Uint16Array(new Uint8Array(readFileSync(join(dir, 'bf16.bin'))).buffer);
      expect(Uint16Array.from(x, (v) => f32ToF16(v))).toEqual(h);
      expect(Uint16Array.from(x, (v) => f32ToBf16(v))).toEqual(b);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
