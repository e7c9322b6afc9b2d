// The GQA cache append (gqa-append.wgsl) against the dense reference's own math (src/model/reference/math.ts:
// rmsNorm, ropeCache with rope_freqs factors, ropeNormal / ropeNeox), head by head as gqa-attention.ts runs it:
// q rotated in place, k and v written at the step's cache rows and nowhere else.
import { describe, expect, it } from 'vitest';
import type { RopeConfig } from '../../../model/config.ts';
import { rmsNorm, ropeCache, ropeNeox, ropeNormal } from '../../../model/reference/math.ts';
import { readF32, uploadStorage } from '../../buffers.ts';
import { testGpu, randomF32 } from '../../testing/test-gpu.ts';
import { submitChecked } from '../common/quant-testing.ts';
import { relMaxErr } from '../matmul/matmul.ref.ts';
import { ropeParamsFor } from '../rope/rope.ts';
import { createGqaAppend, gqaAuxLayout } from './cache-append.ts';

const SENTINEL = -777;

const ropeConfig = (dims: number, freqBase: number): RopeConfig => ({
  dims,
  freqBase,
  scalingType: 'none',
  freqScale: 1,
  extFactor: 0,
  attnFactor: 1,
  betaFast: 32,
  betaSlow: 1,
  origContext: 4096,
  yarnLogMul: 0,
});

interface Case {
  label: string;
  rows: number;
  pos: number;
  heads: number;
  headsKv: number;
  headDim: number;
  neox: boolean;
  bias: boolean;
  qkNorm: boolean;
  freqFactors: boolean;
}

const CASES: Case[] = [
  {
    label: 'llama: normal pairs, rope_freqs, GQA 4/2',
    rows: 1,
    pos: 37,
    heads: 4,
    headsKv: 2,
    headDim: 64,
    neox: false,
    bias: false,
    qkNorm: false,
    freqFactors: true,
  },
  {
    label: 'qwen2: NeoX, q/k/v biases, GQA 6/1',
    rows: 3,
    pos: 5,
    heads: 6,
    headsKv: 1,
    headDim: 32,
    neox: true,
    bias: true,
    qkNorm: false,
    freqFactors: false,
  },
  {
    label: 'qwen3: NeoX, QK-norm, GQA 4/2, prefill at 0',
    rows: 4,
    pos: 0,
    heads: 4,
    headsKv: 2,
    headDim: 128,
    neox: true,
    bias: false,
    qkNorm: true,
    freqFactors: false,
  },
];

describe('GQA cache append', () => {
  for (const t of CASES) {
    it(`${t.label}: ${t.rows} token(s) at ${t.pos}`, async () => {
      const { device } = await testGpu();
      const { rows, pos, heads: H, headsKv: HK, headDim: D } = t;
      const cap = pos + rows + 3;
      const Q = H * D;
      const KV = HK * D;
      // qkv blocks as the graph lays them out: q at 0, k and v after a gap (aligned blocks)
      const offsets = { q: 0, k: rows * Q + 64, v: rows * Q + 64 + rows * KV + 64 };
      const qkv = randomF32(offsets.v + rows * KV, 31).map((v) => 2 * v);
      const layout = gqaAuxLayout(H, HK, D);
      const aux = new Float32Array(layout.floats);
      aux.set(randomF32(Q + 2 * KV, 32), 0); // biases
      aux.set(
        randomF32(2 * D, 33).map((v) => 1 + v),
        layout.qn,
      ); // q_norm, k_norm
      aux.set(
        Float32Array.from({ length: D / 2 }, (_, i) => 1 + (31 * i) / (D / 2)),
        layout.ff,
      ); // rope factors 1..32, as Llama 3's
      const kCache = uploadStorage(device, new Float32Array(cap * KV).fill(SENTINEL), 'k_cache');
      const vCache = uploadStorage(device, new Float32Array(cap * KV).fill(SENTINEL), 'v_cache');
      const qkvBuf = uploadStorage(device, qkv, 'qkv');
      const rope = ropeConfig(D, t.freqFactors ? 500000 : 1000000);
      const k = createGqaAppend(device, {
        rows,
        heads: H,
        headsKv: HK,
        headDim: D,
        rope: ropeParamsFor(rope, t.neox),
        eps: 1e-6,
        qkv: qkvBuf,
        offsets,
        aux: uploadStorage(device, aux, 'aux'),
        has: { bias: t.bias, qkNorm: t.qkNorm, freqFactors: t.freqFactors },
        kCache,
        vCache,
      });
      await submitChecked(device, (enc) => k.encode(enc, pos));

      // the reference, head by head
      const rot = t.neox ? ropeNeox : ropeNormal;
      const wantQ = qkv.slice(0, rows * Q);
      const wantK = new Float32Array(rows * KV);
      const wantV = new Float32Array(rows * KV);
      for (let r = 0; r < rows; r++) {
        const cs = ropeCache(rope, pos + r, t.freqFactors ? aux.subarray(layout.ff, layout.ff + D / 2) : undefined);
        const head = (src: number, bias: number, norm: number | undefined) => {
          let x: Float32Array = qkv.slice(src, src + D);
          if (t.bias) x = x.map((v, i) => v + aux[bias + i]);
          if (norm !== undefined) x = rmsNorm(x, aux.subarray(norm, norm + D), 1e-6);
          return x;
        };
        for (let h = 0; h < H; h++) {
          const x = head(offsets.q + r * Q + h * D, layout.bq + h * D, t.qkNorm ? layout.qn : undefined);
          rot(x, 0, cs);
          wantQ.set(x, r * Q + h * D);
        }
        for (let g = 0; g < HK; g++) {
          const x = head(offsets.k + r * KV + g * D, layout.bk + g * D, t.qkNorm ? layout.kn : undefined);
          rot(x, 0, cs);
          wantK.set(x, r * KV + g * D);
          wantV.set(head(offsets.v + r * KV + g * D, layout.bv + g * D, undefined), r * KV + g * D);
        }
      }
      const got = await readF32(device, qkvBuf, qkv.length);
      expect(relMaxErr(got.subarray(0, rows * Q), wantQ)).toBeLessThan(1e-5);
      expect(Array.from(got.subarray(rows * Q))).toEqual(Array.from(qkv.subarray(rows * Q))); // k, v blocks only read
      for (const [cache, want] of [
        [kCache, wantK],
        [vCache, wantV],
      ] as const) {
        const c = await readF32(device, cache, cap * KV);
        expect(c.subarray(0, pos * KV).every((v) => v === SENTINEL)).toBe(true);
        expect(c.subarray((pos + rows) * KV).every((v) => v === SENTINEL)).toBe(true);
        expect(relMaxErr(c.subarray(pos * KV, (pos + rows) * KV), want)).toBeLessThan(1e-5);
      }
      k.destroy();
    });
  }

  it('a rotation other than the whole head is refused with a typed error', async () => {
    const { device } = await testGpu();
    const b = uploadStorage(device, new Float32Array(4), 'b');
    const a = { rows: 1, heads: 2, headsKv: 1, headDim: 8, eps: 1e-6, qkv: b, offsets: { q: 0, k: 0, v: 0 }, aux: b, kCache: b, vCache: b };
    const has = { bias: false, qkNorm: false, freqFactors: false };
    expect(() => createGqaAppend(device, { ...a, has, rope: ropeParamsFor(ropeConfig(4, 10000), true) })).toThrow(
      expect.objectContaining({ code: 'bad-argument' }),
    );
  });
});
