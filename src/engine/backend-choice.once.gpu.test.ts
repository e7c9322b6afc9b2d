/**
 * The engine's backend choice over a real load (backend-choice.ts, ModelRuntime.loadChosen), on lavapipe
 * (a software adapter, so `auto` measures): the faster measured backend is the one loaded, the second
 * load takes the cached measurement, forcing works, an engine without any adapter runs on the CPU; and
 * on whichever backend runs, greedy tokens equal the CPU reference's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeGpu } from '../gpu/node/node-gpu.ts';
import { writeFixture, type Fixture } from '../tools/fixture/fixture.ts';
import { ReferenceModel } from '../model/reference/forward.ts';
import { weightsFromMap } from '../model/reference/weights.ts';
import { referenceGreedy } from '../model/reference/testing/llama-ref.ts';
import { createTokenizer } from '../model/tokenizer/index.ts';
import { isSparseScopeError } from '../errors.ts';
import { InProcessEngine } from './in-process-engine.ts';
import { memoryChoiceCache } from './backend-choice-cache.ts';
import type { GenerateEvent } from '../api/protocol.ts';

let dir: string;
let path: string;
let fx: Fixture;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sparsescope-choice-'));
  path = join(dir, 'm.gguf');
  fx = await writeFixture(path, { arch: 'deepseek2', seed: 5 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const greedy = { temperature: 0, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1, seed: 1 };

async function greedyTokens(engine: InProcessEngine, prompt: string, n: number): Promise<number[]> {
  const out: GenerateEvent[] = [];
  await engine.generate({ prompt, maxTokens: n, sampling: greedy }, (e) => out.push(e));
  return out.filter((e) => e.kind === 'token' && e.id >= 0).map((e) => (e as { id: number }).id);
}

function referenceTokens(prompt: string, n: number): number[] {
  const plain = Object.fromEntries(Object.entries(fx.metadata).map(([k, v]) => [k, v.value]));
  const ids = createTokenizer(plain).encode(prompt, { addSpecial: true, parseSpecial: true });
  const all = referenceGreedy(new ReferenceModel(fx.config, weightsFromMap(fx.f32)), ids, n);
  const eos = all.indexOf(fx.eos);
  return eos < 0 ? all : all.slice(0, eos);
}

describe('backend choice (auto) on a software adapter', () => {
  it('measures both, keeps the faster, then reuses the measurement; forcing works', async () => {
    const engine = new InProcessEngine(() => nodeGpu(), { backend: 'auto', threads: 1, choiceCache: memoryChoiceCache() });
    const info = await engine.init();
    expect(info.software).toBe(true);
    const first = await engine.load({ kind: 'path', path }, () => {});
    const c = first.backendChoice!;
    expect(c.timing!.cpuMs).toBeGreaterThan(0);
    expect(c.timing!.webgpuMs).toBeGreaterThan(0);
    const faster = c.timing!.cpuMs < c.timing!.webgpuMs ? 'cpu' : 'webgpu';
    console.log(`lavapipe, fixture: ${c.label} — ${c.reason}`);
    expect(c.backend).toBe(faster);
    expect(first.backend).toBe(faster);
    expect(c.reason).toMatch(/measured [0-9.]+× faster/);
    expect(await greedyTokens(engine, 'The experts', 6)).toEqual(referenceTokens('The experts', 6));

    const again = await engine.load({ kind: 'path', path }, () => {});
    expect(again.backendChoice!.backend).toBe(faster);
    expect(again.backendChoice!.reason).toMatch(/measured earlier/);
    expect(again.backendChoice!.timing).toEqual(c.timing);

    for (const backend of ['cpu', 'webgpu'] as const) {
      const forced = await engine.load({ kind: 'path', path }, () => {}, { backend });
      expect(forced.backend).toBe(backend);
      expect(forced.backendChoice!.reason).toMatch(/asked for/);
      expect(await greedyTokens(engine, 'The experts', 6)).toEqual(referenceTokens('The experts', 6));
    }
  });

  it('without any adapter: init resolves on the CPU, models load there, WebGPU forced is refused', async () => {
    const engine = new InProcessEngine(() => undefined, { backend: 'auto', choiceCache: memoryChoiceCache() });
    const info = await engine.init();
    expect(info.gpuUnavailable?.code).toBe('no-webgpu');
    expect((await engine.selfTest()).ok).toBe(true);
    const s = await engine.load({ kind: 'path', path }, () => {});
    expect(s.backend).toBe('cpu');
    expect(s.backendChoice!.reason).toMatch(/WebGPU is not available/);
    expect(await greedyTokens(engine, 'In the beginning', 5)).toEqual(referenceTokens('In the beginning', 5));
    const refused = await engine.load({ kind: 'path', path }, () => {}, { backend: 'webgpu' }).catch((e: unknown) => e);
    expect(isSparseScopeError(refused) && refused.code === 'no-adapter').toBe(true);
    // the CPU model loaded before keeps working
    expect(await greedyTokens(engine, 'In the beginning', 5)).toEqual(referenceTokens('In the beginning', 5));
  });

  it('the default engine (backend webgpu, as the CLI and Node API) still fails without an adapter', async () => {
    const engine = new InProcessEngine(() => undefined);
    const e = await engine.init().catch((x: unknown) => x);
    expect(isSparseScopeError(e) && e.code === 'no-webgpu').toBe(true);
  });
});
