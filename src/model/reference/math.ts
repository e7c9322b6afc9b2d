/**
 * The handful of kernels the CPU reference needs, written plainly. Buffers are Float32Array (f32
 * storage, as ggml's activations); sums run in JS doubles. Matrices are in GGUF ne order {in, out}:
 * row o holds the `in` weights of output o, so y[o] = Σ_i W[o·in + i] · x[i].
 */
import type { RopeConfig } from '../config.ts';

/** y[out] = W{in, out} · x[in]; `rowOffset` picks a sub-matrix of rows (experts, heads). */
export function matvec(W: Float32Array, x: Float32Array, inDim: number, outDim: number, rowOffset = 0, xOffset = 0): Float32Array {
  const y = new Float32Array(outDim);
  for (let o = 0; o < outDim; o++) {
    const base = (rowOffset + o) * inDim;
    let s = 0;
    for (let i = 0; i < inDim; i++) s += W[base + i] * x[xOffset + i];
    y[o] = s;
  }
  return y;
}

/** RMSNorm: x / sqrt(mean(x²) + eps) · w */
export function rmsNorm(x: Float32Array, w: Float32Array, eps: number): Float32Array {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i] * x[i];
  const scale = 1 / Math.sqrt(ss / x.length + eps);
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i] * scale * w[i];
  return y;
}

/** LayerNorm with weight and bias: (x - mean) / sqrt(var + eps) · w + b */
export function layerNorm(x: Float32Array, w: Float32Array, b: Float32Array, eps: number): Float32Array {
  let mean = 0;
  for (let i = 0; i < x.length; i++) mean += x[i];
  mean /= x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i] - mean) ** 2;
  const scale = 1 / Math.sqrt(v / x.length + eps);
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = (x[i] - mean) * scale * w[i] + b[i];
  return y;
}

/** Softmax in place over v[0..n) (a plain array of doubles). */
export function softmaxInPlace(v: Float64Array | number[]): void {
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) if (v[i] > m) m = v[i];
  let s = 0;
  for (let i = 0; i < v.length; i++) {
    v[i] = Math.exp(v[i] - m);
    s += v[i];
  }
  for (let i = 0; i < v.length; i++) v[i] /= s;
}

export const silu = (x: number) => x / (1 + Math.exp(-x));
export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
/** ggml_softplus: log(1 + e^x), x itself above 20 */
export const softplus = (x: number) => (x > 20 ? x : Math.log1p(Math.exp(x)));

const f = Math.fround;

/**
 * cos/sin for one position, pair by pair, as ggml's rope cache (ops.cpp ggml_rope_cache_init +
 * rope_yarn): θ_i = p · base^(-2i/n) (iterated in f32 like ggml), YaRN blends interpolated and
 * extrapolated angles with the ramp over the correction dims, and scales cos/sin by mscale.
 * `freqFactors` [dims/2] (a file's `rope_freqs.weight`, Llama 3's long-context scaling) divides
 * each pair's base angle first, as ggml_rope_ext's third source does.
 */
export function ropeCache(rope: RopeConfig, pos: number, freqFactors?: Float32Array): { cos: Float32Array; sin: Float32Array } {
  const n = rope.dims;
  const half = n / 2;
  const cos = new Float32Array(half);
  const sin = new Float32Array(half);
  const thetaScale = f(Math.pow(rope.freqBase, -2 / n));
  // ggml_rope_yarn_corr_dims
  const corrDim = (beta: number) => (n * Math.log(rope.origContext / f(beta * 2 * f(Math.PI)))) / (2 * Math.log(rope.freqBase));
  const low = Math.max(0, Math.floor(f(corrDim(rope.betaFast))));
  const high = Math.min(n - 1, Math.ceil(f(corrDim(rope.betaSlow))));
  let theta = f(pos);
  for (let i = 0; i < half; i++) {
    const thetaExtrap = freqFactors ? f(theta / freqFactors[i]) : theta;
    const thetaInterp = f(rope.freqScale * thetaExtrap);
    let t = thetaInterp;
    let mscale = rope.attnFactor;
    if (rope.extFactor !== 0) {
      // rope_yarn_ramp(low, high, i0) with i0 = 2i: y = (i0/2 - low) / max(0.001, high - low)
      const y = (i - low) / Math.max(0.001, high - low);
      const rampMix = (1 - Math.min(1, Math.max(0, y))) * rope.extFactor;
      t = f(thetaInterp * (1 - rampMix) + thetaExtrap * rampMix);
      mscale = f(mscale * f(1 + f(0.1 * Math.log(1 / rope.freqScale))));
    }
    cos[i] = f(Math.cos(t) * mscale);
    sin[i] = f(Math.sin(t) * mscale);
    theta = f(theta * thetaScale);
  }
  return { cos, sin };
}

export interface Llama3RopeScaling {
  /** rope_scaling.factor: how much the low frequencies are slowed (Llama 3.1/3.2: 8 / 32) */
  factor: number;
  /** rope_scaling.low_freq_factor / high_freq_factor (Llama 3.x: 1 / 4) */
  lowFreqFactor: number;
  highFreqFactor: number;
  /** rope_scaling.original_max_position_embeddings (Llama 3.x: 8192) */
  originalContext: number;
}

/**
 * Llama 3's rope scaling as the frequency factors a converted GGUF stores in `rope_freqs.weight`
 * ([dims/2], f32): pairs whose wavelength 2π/θ_i is shorter than original/high_freq keep factor 1,
 * longer than original/low_freq take `factor`, and the band between blends 1/((1 - s)/factor + s)
 * with s = (original/wavelength - low) / (high - low). θ_i = base^(-2i/dims), in f32.
 */
export function llama3RopeFactors(base: number, dims: number, s: Llama3RopeScaling): Float32Array {
  const out = new Float32Array(dims / 2);
  const lowWavelen = s.originalContext / s.lowFreqFactor;
  const highWavelen = s.originalContext / s.highFreqFactor;
  for (let i = 0; i < dims / 2; i++) {
    const freq = f(1 / f(Math.pow(base, f((2 * i) / dims))));
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highWavelen) out[i] = 1;
    else if (wavelen > lowWavelen) out[i] = s.factor;
    else {
      const smooth = (s.originalContext / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
      out[i] = 1 / ((1 - smooth) / s.factor + smooth);
    }
  }
  return out;
}

/** "Normal" rope (adjacent pairs x[2i], x[2i+1]) on x[off .. off + 2·half), in place. */
export function ropeNormal(x: Float32Array, off: number, c: { cos: Float32Array; sin: Float32Array }): void {
  for (let i = 0; i < c.cos.length; i++) {
    const x0 = x[off + 2 * i];
    const x1 = x[off + 2 * i + 1];
    x[off + 2 * i] = x0 * c.cos[i] - x1 * c.sin[i];
    x[off + 2 * i + 1] = x0 * c.sin[i] + x1 * c.cos[i];
  }
}

/** NeoX rope (rotate-half: pairs x[i], x[i + half]) on x[off .. off + 2·half), in place. */
export function ropeNeox(x: Float32Array, off: number, c: { cos: Float32Array; sin: Float32Array }): void {
  const half = c.cos.length;
  for (let i = 0; i < half; i++) {
    const x0 = x[off + i];
    const x1 = x[off + i + half];
    x[off + i] = x0 * c.cos[i] - x1 * c.sin[i];
    x[off + i + half] = x0 * c.sin[i] + x1 * c.cos[i];
  }
}

export function dot(a: Float32Array, aOff: number, b: Float32Array, bOff: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
  return s;
}

/**
 * Indices of the k largest values, larger first; equal values go to the earlier index.
 * (Used for MoE routing. The DSA indexer's top-k follows llama.cpp's tie order instead: indexer-topk.ts.)
 */
export function topK(values: ArrayLike<number>, k: number, candidates?: readonly number[]): number[] {
  const idx = candidates ? [...candidates] : Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => values[b] - values[a] || a - b);
  return idx.slice(0, Math.min(k, idx.length));
}
