/**
 * ReferenceWeights over the file's own GGUF blocks: matmuls run the row kernels
 * (./kernels/row-kernels.ts) on the quantized bytes, split over the thread pool when there is one;
 * only small tensors (norms, biases) are ever dequantized whole. The reference forward drives it
 * through `matmul` (linearChunk) and `row` (embedding lookups). With `roundInputs` (CpuModel's
 * roundActivations), matmul inputs are rounded as llama.cpp's CPU matmul rounds them for the weight's
 * type (`roundInput`: Q8_0 / Q8_K blocks, F16, BF16; F32 weights keep f32 inputs), so the engine's
 * logits follow llama.cpp's and an int8 dot product can later replace the f32 one without changing a result.
 */
import { SparseScopeError } from '../../errors.ts';
import { typeName } from '../../gguf/types.ts';
import { activationRounding } from '../../model/reference/activation-quant.ts';
import type { ChunkOptions, ReferenceWeights } from '../../model/reference/weights.ts';
import type { RowJob, RowKernels, WeightView } from './kernels/row-kernels.ts';
import type { RowPool } from './pool/row-pool.ts';

/** Below this many multiply-adds a matmul runs on the engine thread alone (waking workers costs more). */
export const MIN_POOL_WORK = 1 << 15;
/** Tensors up to this many values may be dequantized whole (and kept) by get(). */
const SMALL_TENSOR = 1 << 20;

export class QuantWeights implements ReferenceWeights {
  private readonly index = new Map<string, number>();
  private readonly small = new Map<string, Float32Array>();
  private readonly scratch: Float32Array;
  private pool: RowPool | null = null;
  private readonly job: RowJob = { r0: 0, r1: 0, rowOffset: 0, T: 1, xBase: 0, xTok: 0, groupRows: 1, xGroup: 0, yBase: 0, yTok: 0 };

  /**
   * @param views every tensor's kernel view, by name (in pool registration order)
   * @param F the matmul scratch (inputs then outputs), shared with the pool's workers when threaded
   * @param roundInputs round matmul inputs as llama.cpp's CPU does (roundInput); else they stay f32
   */
  constructor(
    private readonly kernels: RowKernels,
    readonly names: readonly string[],
    readonly views: readonly WeightView[],
    private readonly F: Float32Array,
    private readonly roundInputs = true,
  ) {
    names.forEach((n, i) => this.index.set(n, i));
    this.scratch = new Float32Array(views.reduce((a, v) => Math.max(a, v.K), 1));
  }

  attachPool(pool: RowPool | null): void {
    this.pool = pool;
  }

  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  has(name: string): boolean {
    return this.index.has(name);
  }

  private view(name: string): { id: number; v: WeightView } {
    const id = this.index.get(name);
    if (id === undefined) throw new SparseScopeError('missing-tensor', `tensor "${name}" is missing`);
    return { id, v: this.views[id] };
  }

  /** llama.cpp's rounding of this weight's input (linearChunk applies it before `matmul`) */
  roundInput(name: string): ((x: Float32Array) => Float32Array) | null {
    return this.roundInputs ? activationRounding(this.view(name).v.type) : null;
  }

  get(name: string): Float32Array {
    const hit = this.small.get(name);
    if (hit) return hit;
    const { v } = this.view(name);
    const out = new Float32Array(v.K * v.rows);
    const row = new Float32Array(v.K);
    for (let r = 0; r < v.rows; r++) {
      this.kernels.decodeRow(v, r, row);
      out.set(row, r * v.K);
    }
    if (out.length <= SMALL_TENSOR) this.small.set(name, out);
    return out;
  }

  row(name: string, index: number): Float32Array {
    const { v } = this.view(name);
    if (!Number.isInteger(index) || index < 0 || index >= v.rows)
      throw new SparseScopeError('out-of-bounds', `row ${index} is outside tensor "${name}" (${v.rows} rows)`);
    const out = new Float32Array(v.K);
    this.kernels.decodeRow(v, index, out);
    return out;
  }

  matmul(name: string, xs: readonly Float32Array[], inDim: number, outDim: number, o: ChunkOptions): Float32Array[] {
    const { id, v } = this.view(name);
    if (xs.length === 0) return [];
    if (inDim !== v.K || o.rowOffset < 0 || o.rowOffset + outDim > v.rows || o.groupRows <= 0) {
      throw new SparseScopeError(
        'wrong-shape',
        `matmul over "${name}" (${typeName(v.type)}, ${v.K} × ${v.rows}): rows ${o.rowOffset}..${o.rowOffset + outDim} of ${inDim} inputs do not fit`,
      );
    }
    const xTok = xs[0].length;
    const need = o.xOffset + Math.ceil(outDim / o.groupRows - 1) * o.xGroupStride + inDim;
    if (xs.some((x) => x.length !== xTok) || need > xTok)
      throw new SparseScopeError('wrong-shape', `matmul over "${name}": inputs of ${xTok} values, ${need} needed`);
    // as many tokens per pass as the scratch holds (inputs [T][xTok], then outputs [T][outDim])
    const per = Math.floor(this.F.length / (xTok + outDim));
    if (per < 1)
      throw new SparseScopeError(
        'out-of-memory',
        `matmul over "${name}": the CPU scratch (${this.F.length} floats) cannot hold one token's ${xTok} inputs and ${outDim} outputs`,
      );
    const ys: Float32Array[] = [];
    for (let t0 = 0; t0 < xs.length; t0 += per) {
      const T = Math.min(per, xs.length - t0);
      for (let t = 0; t < T; t++) this.F.set(xs[t0 + t], t * xTok);
      const j = this.job;
      j.rowOffset = o.rowOffset;
      j.T = T;
      j.xBase = o.xOffset;
      j.xTok = xTok;
      j.groupRows = o.groupRows;
      j.xGroup = o.xGroupStride;
      j.yBase = T * xTok;
      j.yTok = outDim;
      if (this.pool && outDim >= this.pool.threads && outDim * inDim * T >= MIN_POOL_WORK) {
        try {
          this.pool.run(id, outDim, j);
        } catch (e) {
          // a dead worker: this matmul's output is incomplete (typed error to the caller); the pool
          // stops and every later job runs on the engine thread alone
          this.pool.destroy();
          this.pool = null;
          throw e;
        }
      } else {
        j.r0 = 0;
        j.r1 = outDim;
        this.kernels.runRows(v, j, this.F, this.F, this.scratch);
      }
      for (let t = 0; t < T; t++) ys.push(this.F.slice(j.yBase + t * outDim, j.yBase + (t + 1) * outDim));
    }
    return ys;
  }

  destroy(): void {
    this.pool?.destroy();
    this.pool = null;
  }
}
