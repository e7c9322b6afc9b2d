/**
 * The decode path end to end: generation with GPU sampling equals the CPU reference forward plus the
 * reference sampler (greedy and seeded), token for token; and a decode step after the first creates
 * no GPU buffers or bind groups (every kernel prepared, the sampler's readback buffer reused).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeGpu } from '../../gpu/node/node-gpu.ts';
import { writeFixture, type Fixture } from '../../tools/fixture/fixture.ts';
import { ReferenceModel } from '../../model/reference/forward.ts';
import { weightsFromMap } from '../../model/reference/weights.ts';
import { createTokenizer, type Tokenizer } from '../../model/tokenizer/index.ts';
import { createReferenceSampler } from '../../gpu/shaders/sampling/sampling.ref.ts';
import { InProcessEngine } from '../in-process-engine.ts';
import { testGpu } from '../../gpu/testing/test-gpu.ts';
import { openGguf } from '../../gguf/reader.ts';
import { samplerSettings } from '../../gpu/shaders/sampling/sampling.ts';
import type { FixtureOptions } from '../../tools/fixture/fixture.ts';
import { WebGpuModel } from './webgpu-model.ts';
import type { GenerateEvent, SamplingOptions } from '../../api/protocol.ts';

let dir: string;
let fx: Fixture;
let tok: Tokenizer;
const engine = new InProcessEngine(() => nodeGpu());

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-decode-'));
  const path = join(dir, 'm.gguf');
  fx = await writeFixture(path, { arch: 'deepseek32', gating: 'sigmoid', dims: { topK: 4 }, seed: 21 });
  tok = createTokenizer(Object.fromEntries(Object.entries(fx.metadata).map(([k, v]) => [k, v.value])));
  await engine.init();
  await engine.load({ kind: 'path', path }, () => {});
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The CPU backend's generation: reference forward, reference sampler, same stop rule as the engine. */
function cpuGenerate(prompt: string, maxTokens: number, sampling: SamplingOptions): number[] {
  const ids = tok.encode(prompt, { addSpecial: true, parseSpecial: true });
  const s = new ReferenceModel(fx.config, weightsFromMap(fx.f32)).session();
  let logits: Float32Array = new Float32Array(0);
  for (const t of ids) logits = s.step(t).logits;
  const sampler = createReferenceSampler(sampling);
  const history = [...ids];
  const out: number[] = [];
  while (out.length < maxTokens) {
    const next = sampler.sample(logits, history);
    if (tok.stopIds.has(next)) break;
    out.push(next);
    history.push(next);
    logits = s.step(next).logits;
  }
  return out;
}

async function gpuGenerate(prompt: string, maxTokens: number, sampling: SamplingOptions): Promise<number[]> {
  const out: GenerateEvent[] = [];
  await engine.generate({ prompt, maxTokens, sampling }, (e) => out.push(e));
  return out.filter((e) => e.kind === 'token' && e.id >= 0).map((e) => (e as { id: number }).id);
}

describe('generation with GPU sampling = CPU reference forward + reference sampler', () => {
  const cases: [string, SamplingOptions][] = [
    ['greedy', { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, seed: 1 }],
    ['greedy with repetition penalty 1.3', { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1.3, seed: 1 }],
    ['seeded: T 0.9, top-k 20, top-p 0.9, min-p 0.02, penalty 1.1', { temperature: 0.9, topK: 20, topP: 0.9, minP: 0.02, repetitionPenalty: 1.1, seed: 1234 }],
    ['seeded: T 1.2, top-k off, top-p 0.95', { temperature: 1.2, topK: 0, topP: 0.95, minP: 0, repetitionPenalty: 1, seed: 77 }],
  ];
  for (const [name, sampling] of cases) {
    it(name, async () => {
      const want = cpuGenerate('The experts', 16, sampling);
      const got = await gpuGenerate('The experts', 16, sampling);
      console.log(`${name}: ${got.length} tokens ${JSON.stringify(got)}`);
      expect(got).toEqual(want);
      expect(got.length).toBeGreaterThan(0);
      // the same seed again: the same tokens (the draw depends only on seed and step)
      expect(await gpuGenerate('The experts', 16, sampling)).toEqual(got);
    });
  }
});

describe('a decode step allocates no GPU objects', () => {
  const variants: [string, FixtureOptions][] = [
    ['deepseek32 sparse (top-k 4), MoE', { arch: 'deepseek32', gating: 'sigmoid', dims: { topK: 4 }, seed: 22 }],
    ['deepseek2 legacy attn_kv_b (per-token kpe copies)', { arch: 'deepseek2', attn: 'legacy', seed: 23 }],
  ];
  for (const [name, fo] of variants) {
    it(name, async () => {
      const { device, ...ctx } = await testGpu();
      const path = join(dir, `alloc-${fo.seed}.gguf`);
      await writeFixture(path, fo);
      const file = await openGguf({ kind: 'path', path });
      const model = await WebGpuModel.load({ device, ...ctx }, file, { contextSize: 32 });
      await file.close();
      // Count what the device creates from here on (the model's weights and caches already exist).
      const counts = { buffers: 0, bindGroups: 0 };
      const createBuffer = device.createBuffer;
      const createBindGroup = device.createBindGroup;
      device.createBuffer = function (d: GPUBufferDescriptor) {
        counts.buffers++;
        return createBuffer.call(this, d);
      };
      device.createBindGroup = function (d: GPUBindGroupDescriptor) {
        counts.bindGroups++;
        return createBindGroup.call(this, d);
      };
      try {
        const settings = samplerSettings({ temperature: 0.8, topK: 20, topP: 0.9, minP: 0.05, repetitionPenalty: 1.1, seed: 5 });
        const s = model.session();
        const history = [1, 7, 9, 4, 3];
        let r = await s.feedAndSample(history, { settings, history, step: 0 });
        const perStep: { buffers: number; bindGroups: number }[] = [];
        for (let step = 1; step <= 6; step++) {
          const before = { ...counts };
          history.push(r.token);
          r = await s.feedAndSample([r.token], { settings, history, step });
          perStep.push({ buffers: counts.buffers - before.buffers, bindGroups: counts.bindGroups - before.bindGroups });
        }
        console.log(`${name}: created per decode step ${JSON.stringify(perStep)}`);
        // step 1 builds the m = 1 graph; every later step reuses it
        expect(perStep[0].bindGroups).toBeGreaterThan(0);
        expect(perStep.slice(1)).toEqual(Array(5).fill({ buffers: 0, bindGroups: 0 }));
      } finally {
        device.createBuffer = createBuffer;
        device.createBindGroup = createBindGroup;
        model.destroy();
      }
    });
  }
});

describe('per-layer decode timing (Speed view)', () => {
  for (const method of ['timestamp-query', 'cpu-submit-wait'] as const) {
    for (const indexTopK of [4, 0]) {
      it(`${method}, ${indexTopK ? `sparse top-k ${indexTopK}` : 'dense'}: one finite, non-negative entry per layer`, async () => {
        const r = await engine.profile({ prompt: 'sparse attention picks a few of the keys', indexTopK, steps: 3, method });
        console.log(
          `${method} k=${indexTopK}: total ${r.totalMs.toFixed(3)} ms/step; layers ${r.layers.map((l) => `${l.ms.toFixed(3)} (attn ${l.attentionMs.toFixed(3)}, idx ${l.indexerMs.toFixed(3)})`).join(', ')}`,
        );
        expect(r.method).toBe(method);
        expect(r.indexTopK).toBe(indexTopK);
        expect(r.steps).toBe(3);
        expect(r.layers).toHaveLength(fx.config.layers);
        r.layers.forEach((l, i) => {
          expect(l.layer).toBe(i);
          for (const v of [l.ms, l.attentionMs, l.indexerMs, l.ffnMs]) {
            expect(Number.isFinite(v)).toBe(true);
            expect(v).toBeGreaterThanOrEqual(0);
          }
          expect(l.attentionMs + l.indexerMs + l.ffnMs).toBeLessThanOrEqual(l.ms + 1e-9);
        });
        expect(r.layers.some((l) => l.ms > 0)).toBe(true);
        expect(Number.isFinite(r.totalMs) && r.totalMs > 0).toBe(true);
      });
    }
  }
});
