/**
 * llama.cpp's CPU matmul inputs: ggml converts the activations to the weight type's `vec_dot_type`
 * before the dot products (Q8_0 for Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 weights, Q8_K for K-quants, F16 for F16,
 * BF16 for BF16). Rounding our f32 input the same way makes a quantized model comparable to llama.cpp
 * at ~1e-4 instead of ~1e-1 (docs/llama-cpp-reference.md). The CPU engine always rounds so
 * (QuantWeights.roundInput); the f32 reference when loaded with emulateActivationQuant.
 */
import { GgmlType } from '../../gguf/types.ts';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../gguf/codecs/index.ts';

const f = Math.fround;

/** 1.5 · 2^52: adding and subtracting it rounds a double of magnitude < 2^51 to an integer, ties to even */
const RINT = 6755399441055744;

/** round to nearest, ties to even (x86 _MM_ROUND_NEAREST and ggml's nearest_int); |v| < 2^51 */
function rint(v: number): number {
  return v + RINT - RINT;
}

/** Q8_0 as ggml-cpu's AVX quantize_row_q8_0: d = amax/127 stored as f16, q = rint(x · 127/amax). */
function roundQ8_0(x: Float32Array): Float32Array {
  const y = new Float32Array(x.length);
  for (let b = 0; b < x.length; b += 32) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b + j]));
    const d = f16ToF32(f32ToF16(f(amax / 127)));
    const id = amax !== 0 ? f(127 / amax) : 0;
    for (let j = 0; j < 32; j++) y[b + j] = f(d * rint(f(x[b + j] * id)));
  }
  return y;
}

/** Q8_K as quantize_row_q8_K_ref: iscale = -127/max (max = the signed value of largest magnitude), d = 1/iscale in f32. */
function roundQ8_K(x: Float32Array): Float32Array {
  const y = new Float32Array(x.length);
  for (let b = 0; b < x.length; b += 256) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 256; j++) {
      const ax = Math.abs(x[b + j]);
      if (ax > amax) {
        amax = ax;
        max = x[b + j];
      }
    }
    if (amax === 0) continue;
    const iscale = f(-127 / max);
    const d = f(1 / iscale);
    for (let j = 0; j < 256; j++) y[b + j] = f(d * Math.min(127, rint(f(iscale * x[b + j]))));
  }
  return y;
}

/** llama.cpp's CPU vec_dot_type by weight type, as a kind: the one table (the GPU's round-activations reads it too). */
export type ActivationRoundingKind = 'f16' | 'bf16' | 'q8_0' | 'q8_k';

export function activationRoundingKind(type: number): ActivationRoundingKind | null {
  switch (type) {
    case GgmlType.F16:
      return 'f16';
    case GgmlType.BF16:
      return 'bf16';
    case GgmlType.Q4_0:
    case GgmlType.Q4_1:
    case GgmlType.Q5_0:
    case GgmlType.Q5_1:
    case GgmlType.Q8_0:
      return 'q8_0';
    case GgmlType.Q2_K:
    case GgmlType.Q3_K:
    case GgmlType.Q4_K:
    case GgmlType.Q5_K:
    case GgmlType.Q6_K:
      return 'q8_k';
    default:
      return null;
  }
}

const ROUNDINGS: Record<ActivationRoundingKind, (x: Float32Array) => Float32Array> = {
  f16: (x) => Float32Array.from(x, (v) => f16ToF32(f32ToF16(v))),
  bf16: (x) => Float32Array.from(x, (v) => bf16ToF32(f32ToBf16(v))),
  q8_0: roundQ8_0,
  q8_k: roundQ8_K,
};

/** How a matmul input is rounded for a weight of ggml type `type`; null when it stays f32. */
export function activationRounding(type: number): ((x: Float32Array) => Float32Array) | null {
  const kind = activationRoundingKind(type);
  return kind ? ROUNDINGS[kind] : null;
}

/** The rounding of one kind (what activationRounding returns for its types). */
export function roundActivations(kind: ActivationRoundingKind, x: Float32Array): Float32Array {
  return ROUNDINGS[kind](x);
}
