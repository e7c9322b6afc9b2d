/**
 * CPU reference for rope.wgsl and the host-side YaRN helpers, following ggml's rope (ggml_rope_ext):
 * theta accumulated in f32 by repeated multiplication as ggml's rope cache does, cos/sin in float64.
 */
export interface RopeParams {
  nDims: number;
  /** rope.freq_base */
  freqBase: number;
  /** 1 / rope.scaling.factor with YaRN; 1 without. */
  freqScale: number;
  /** 1 with YaRN (llama.cpp's yarn_ext_factor default for YaRN models), 0 without. */
  extFactor: number;
  /** The magnitude factor ggml multiplies cos and sin by (llama.cpp's deepseek2 passes 1 / (1 + 0.1 ln(1/freq_scale)) with YaRN). */
  attnFactor: number;
  /** YaRN correction dims from yarnCorrDims(); ignored when extFactor is 0. */
  corrDims: [number, number];
  /** NeoX rotate-half pairs (x[k], x[k + n/2]) instead of adjacent pairs (x[2k], x[2k+1]). */
  neox: boolean;
}

const f = Math.fround;

/** ggml_rope_yarn_corr_dim: the dimension at which `nRot` rotations happen over the original context. */
function corrDim(nDims: number, nCtxOrig: number, nRot: number, base: number): number {
  return f((nDims * Math.log(nCtxOrig / (nRot * 2 * Math.PI))) / (2 * Math.log(base)));
}

/** ggml_rope_yarn_corr_dims: [max(0, floor(dim(beta_fast))), min(n_dims - 1, ceil(dim(beta_slow)))]. */
export function yarnCorrDims(nDims: number, nCtxOrig: number, freqBase: number, betaFast = 32, betaSlow = 1): [number, number] {
  const start = Math.floor(corrDim(nDims, nCtxOrig, betaFast, freqBase));
  const end = Math.ceil(corrDim(nDims, nCtxOrig, betaSlow, freqBase));
  return [Math.max(0, start), Math.min(nDims - 1, end)];
}

/** powf(freq_base, -2 / n_dims) as ggml computes it (f32). */
export function ropeThetaScale(freqBase: number, nDims: number): number {
  return f(Math.pow(freqBase, f(-2 / nDims)));
}

/** The (cos, sin) ggml uses for pair k at position pos. */
export function ropeCosSin(pos: number, k: number, p: RopeParams): [number, number] {
  const scale = ropeThetaScale(p.freqBase, p.nDims);
  let thetaExtrap = f(pos);
  for (let i = 0; i < k; i++) thetaExtrap = f(thetaExtrap * scale);
  const thetaInterp = f(p.freqScale * thetaExtrap);
  let theta = thetaInterp;
  let mscale = p.attnFactor;
  if (p.extFactor !== 0) {
    const y = (k - p.corrDims[0]) / Math.max(0.001, p.corrDims[1] - p.corrDims[0]);
    const ramp = (1 - Math.min(1, Math.max(0, y))) * p.extFactor;
    theta = f(f(thetaInterp * f(1 - ramp)) + f(thetaExtrap * f(ramp))); // f32 steps, as on the GPU
    mscale *= 1 + 0.1 * Math.log(1 / p.freqScale);
  }
  return [Math.cos(theta) * mscale, Math.sin(theta) * mscale];
}

/**
 * Rotates x in place (returns it): rows × heads heads at r·rowStride + h·headStride, slice
 * [offset, offset + nDims), row r at position pos0 + (positions ? positions[r] : r).
 */
export function ropeRef(
  x: Float32Array,
  shape: { rows: number; heads: number; rowStride: number; headStride: number; offset: number },
  p: RopeParams,
  pos0 = 0,
  positions?: ArrayLike<number>,
): Float32Array {
  const half = p.nDims / 2;
  for (let r = 0; r < shape.rows; r++) {
    const pos = pos0 + (positions ? positions[r] : r);
    for (let h = 0; h < shape.heads; h++) {
      const base = r * shape.rowStride + h * shape.headStride + shape.offset;
      for (let k = 0; k < half; k++) {
        const [c, s] = ropeCosSin(pos, k, p);
        const i0 = p.neox ? base + k : base + 2 * k;
        const i1 = p.neox ? i0 + half : i0 + 1;
        const x0 = x[i0];
        const x1 = x[i1];
        x[i0] = x0 * c - x1 * s;
        x[i1] = x0 * s + x1 * c;
      }
    }
  }
  return x;
}
