/**
 * The thread pool: matmuls split over 1, 2 and 3 threads give bitwise-identical outputs (rows are
 * partitioned, never a row's summation), for single tokens, chunks and grouped (per-head) rows; the
 * pool survives many jobs, and destroy() stops the workers (vitest would otherwise not exit).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { GgmlType } from '../../../gguf/types.ts';
import { randomBlocks } from '../../../tools/fixture/random-blocks.ts';
import { linear, weightsFromMap } from '../../../model/reference/weights.ts';
import { dequantize } from '../../../gguf/codecs/index.ts';
import { makeRowKernels } from '../kernels/row-kernels.ts';
import { QuantWeights } from '../quant-weights.ts';
import { RowPool } from './row-pool.ts';
import { isSparseScopeError } from '../../../errors.ts';

const kernels = makeRowKernels();
const K = 512;
const ROWS = 301; // odd: shares of unequal size
const TYPES = [GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.Q5_0];

function shared(bytes: Uint8Array): Uint8Array {
  const u = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  u.set(bytes);
  return u;
}

const raw = TYPES.map((t, i) => randomBlocks(t, K * ROWS, 0.05, 100 + i));
const names = TYPES.map((t) => `w${t}`);
const made: QuantWeights[] = [];

async function weights(threads: number): Promise<QuantWeights> {
  const views = TYPES.map((t, i) => kernels.view(t, K, ROWS, shared(raw[i])));
  const F = new Float32Array(new SharedArrayBuffer(4 * 64 * (K + ROWS)));
  const w = new QuantWeights(kernels, names, views, F);
  if (threads > 1) w.attachPool(await RowPool.create(kernels, threads, views, F));
  made.push(w);
  return w;
}

let seed = 1;
const vec = (n: number) =>
  Float32Array.from({ length: n }, () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32 - 0.5;
  });

afterAll(() => made.forEach((w) => w.destroy()));

describe('RowPool', () => {
  it('1, 2 and 3 threads give bitwise-identical matmuls; results agree with the f32 reference linear', async () => {
    const ws = [await weights(1), await weights(2), await weights(3)];
    expect(ws.map((w) => w.threads)).toEqual([1, 2, 3]);
    const xs1 = [vec(K)];
    const xs5 = Array.from({ length: 5 }, () => vec(K + 3));
    const f32 = weightsFromMap(new Map(TYPES.map((t, i) => [names[i], dequantize(t, raw[i], K * ROWS)])));
    for (const name of names) {
      const runs = ws.map((w) => [
        w.matmul(name, xs1, K, ROWS, { rowOffset: 0, xOffset: 0, groupRows: ROWS, xGroupStride: 0 }),
        w.matmul(name, xs5, K, ROWS - 1, { rowOffset: 1, xOffset: 3, groupRows: ROWS - 1, xGroupStride: 0 }),
      ]);
      for (const r of runs.slice(1)) {
        r.forEach((ys, j) => ys.forEach((y, t) => expect(Buffer.from(y.buffer).equals(Buffer.from(runs[0][j][t].buffer))).toBe(true)));
      }
      // against the dequantized f32 matvec (within f32 rounding of the hoisted block scales)
      const ref = linear(f32, name, xs5[2], K, ROWS - 1, 1, 3);
      const got = runs[2][1][2];
      const scale = Math.max(...ref.map(Math.abs));
      for (let o = 0; o < ref.length; o++) expect(Math.abs(got[o] - ref[o])).toBeLessThan(1e-5 * scale);
    }
  });

  it('grouped rows split over threads equal the single-thread result; the pool survives many jobs and stops on destroy', async () => {
    const [one, three] = [await weights(1), await weights(3)];
    // 7 groups of 43 rows, each group reading its own slice of a 7·K input
    const xs = [vec(7 * K), vec(7 * K)];
    const o = { rowOffset: 0, xOffset: 0, groupRows: 43, xGroupStride: K };
    for (let i = 0; i < 300; i++) {
      const name = names[i % names.length];
      const T = (i % 3) + 1;
      const a = one.matmul(name, xs.slice(0, Math.min(T, 2)), K, ROWS, o);
      const b = three.matmul(name, xs.slice(0, Math.min(T, 2)), K, ROWS, o);
      a.forEach((y, t) => expect(Buffer.from(y.buffer).equals(Buffer.from(b[t].buffer))).toBe(true));
    }
    three.destroy();
    expect(() => three.matmul(names[0], xs, K, ROWS, o)).not.toThrow(); // falls back to the engine thread alone
    expect(three.threads).toBe(1);
  });

  it('a worker that dies mid-job: a typed worker-failed error (no hang), then the same results on one thread', async () => {
    const one = await weights(1);
    const views = TYPES.map((t, i) => kernels.view(t, K, ROWS, shared(raw[i])));
    const F = new Float32Array(new SharedArrayBuffer(4 * 64 * (K + ROWS)));
    const w = new QuantWeights(kernels, names, views, F);
    made.push(w);
    const pool = await RowPool.create(kernels, 3, views, F, { stallMs: 300 });
    w.attachPool(pool);
    const xs = [vec(K)];
    const o = { rowOffset: 0, xOffset: 0, groupRows: ROWS, xGroupStride: 0 };
    w.matmul(names[0], xs, K, ROWS, o);
    // worker 2 takes the next job and stops without reporting
    pool.killWorkerOnNextJobForTest(2);
    let err: unknown;
    try {
      w.matmul(names[1], xs, K, ROWS, o);
    } catch (e) {
      err = e;
    }
    expect(isSparseScopeError(err) && err.code).toBe('worker-failed');
    expect(w.threads).toBe(1);
    for (const name of names) {
      const a = w.matmul(name, xs, K, ROWS, o)[0];
      const b = one.matmul(name, xs, K, ROWS, o)[0];
      expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    }
  });

  it('a worker that exited between jobs is seen at the next job (worker-failed), then one thread', async () => {
    const views = TYPES.map((t, i) => kernels.view(t, K, ROWS, shared(raw[i])));
    const F = new Float32Array(new SharedArrayBuffer(4 * 64 * (K + ROWS)));
    const w = new QuantWeights(kernels, names, views, F);
    made.push(w);
    const pool = await RowPool.create(kernels, 2, views, F, { stallMs: 300 });
    w.attachPool(pool);
    const xs = [vec(K)];
    const o = { rowOffset: 0, xOffset: 0, groupRows: ROWS, xGroupStride: 0 };
    await pool.terminateWorkerForTest(1);
    let err: unknown;
    try {
      w.matmul(names[0], xs, K, ROWS, o);
    } catch (e) {
      err = e;
    }
    expect(isSparseScopeError(err) && err.code).toBe('worker-failed');
    expect((err as Error).message).toMatch(/worker 1 exited/);
    expect(w.threads).toBe(1);
    expect(w.matmul(names[0], xs, K, ROWS, o)[0].length).toBe(ROWS);
  });
});
