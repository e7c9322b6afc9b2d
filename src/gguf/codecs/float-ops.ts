/**
 * Single-precision arithmetic helpers so the quantizers follow ggml's C float code step by step.
 * JS computes in double; `f(a op b)` rounds the exact double result to f32, which equals the f32
 * operation for + - * / and sqrt (double has more than 2·24+2 bits, so no double-rounding error).
 * ggml builds compiled with FMA contraction can differ in rare ties; we follow the plain C semantics.
 */
export const f = Math.fround;

const scratchF = new Float32Array(1);
const scratchI = new Int32Array(scratchF.buffer);

/** ggml's nearest_int: adds 1.5·2^23 in f32 and reads the low mantissa bits (round half to even). */
export function nearestInt(v: number): number {
  scratchF[0] = v + 12582912; // the assignment rounds to f32, as `float val = fval + 12582912.f`
  return (scratchI[0] & 0x007fffff) - 0x00400000;
}

/** C roundf: round half away from zero. */
export function roundf(v: number): number {
  return v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5);
}

/** ggml's GROUP_MAX_EPS (1e-15f): groups whose largest magnitude is below this are all zero. */
export const GROUP_MAX_EPS = f(1e-15);

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Reads a little-endian u16 at byte `o`. */
export function u16le(b: Uint8Array, o: number): number {
  return b[o] | (b[o + 1] << 8);
}

export function writeU16le(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >> 8) & 0xff;
}

/** Reads a little-endian u32 at byte `o` (as an unsigned number). */
export function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

export function writeU32le(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}
