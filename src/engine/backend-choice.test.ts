/**
 * The backend rule (backend-choice.ts): forced wins, no adapter → CPU, a hardware GPU → WebGPU, a software
 * adapter → measure (or the cached measurement's faster side); the reason quotes the measured numbers.
 */
import { describe, expect, it } from 'vitest';
import { choiceKey, describeChoice, gpuMayNotFit, planBackend, checkPreference } from './backend-choice.ts';
import type { GpuInfo } from '../gpu/device.ts';
import { SparseScopeError, isSparseScopeError } from '../errors.ts';

const gpu = (software: boolean, name = software ? 'SwiftShader Device (Subzero)' : 'NVIDIA H200'): GpuInfo => ({
  vendor: software ? 'google' : 'nvidia',
  architecture: software ? 'swiftshader' : 'hopper',
  device: '',
  description: name,
  name,
  features: [],
  limits: {},
  hasF16: false,
  hasSubgroups: false,
  hasTimestamps: false,
  software,
});
const shape = { layers: 2, embedding: 64, heads: 2, qLoraRank: 0, kvLoraRank: 16, nopeDim: 8, ropeDim: 4, vDim: 8, contextLength: 128 };

describe('planBackend', () => {
  it('follows the rule', () => {
    expect(planBackend('cpu', gpu(false))).toEqual({ kind: 'use', backend: 'cpu', why: 'forced' });
    expect(planBackend('webgpu', gpu(true))).toEqual({ kind: 'use', backend: 'webgpu', why: 'forced' });
    expect(planBackend('auto', undefined)).toEqual({ kind: 'use', backend: 'cpu', why: 'no-gpu' });
    expect(planBackend('auto', gpu(false))).toEqual({ kind: 'use', backend: 'webgpu', why: 'hardware' });
    expect(planBackend('auto', gpu(true))).toEqual({ kind: 'measure' });
    expect(planBackend('auto', gpu(true), { webgpuMs: 30, cpuMs: 10, threads: 2 })).toEqual({ kind: 'use', backend: 'cpu', why: 'cached' });
    expect(planBackend('auto', gpu(true), { webgpuMs: 10, cpuMs: 30, threads: 2 })).toEqual({ kind: 'use', backend: 'webgpu', why: 'cached' });
  });

  it('refuses WebGPU forced without an adapter, and unknown preferences, with typed errors', () => {
    const noGpu = (() => {
      try {
        planBackend('webgpu', undefined, undefined, 'this browser has no WebGPU');
      } catch (e) {
        return e;
      }
    })();
    expect(isSparseScopeError(noGpu) && noGpu.code === 'no-adapter' && /no WebGPU.*CPU backend/.test(noGpu.message)).toBe(true);
    expect(() => checkPreference('tpu')).toThrow(/unknown backend "tpu"; supported: auto, webgpu, cpu/);
    expect(checkPreference(undefined)).toBe('auto');
  });
});

describe('describeChoice', () => {
  it('names the backend and quotes the measured ratio', () => {
    const timing = { webgpuMs: 310, cpuMs: 100, threads: 2 };
    const c = describeChoice('cpu', { kind: 'measure' }, { preference: 'auto', gpu: gpu(true), threads: 2, timing });
    expect([c.label, c.cpuKernels]).toEqual(['CPU (WebAssembly SIMD), 2 threads', 'WebAssembly SIMD']);
    const plain = describeChoice(
      'cpu',
      { kind: 'measure' },
      { preference: 'auto', gpu: gpu(true), threads: 1, timing, simdUnavailable: 'turned off (simd: false)' },
    );
    expect([plain.label, plain.cpuKernels]).toEqual(['CPU, 1 thread', 'TypeScript (no SIMD: turned off (simd: false))']);
    expect(c.reason).toMatch(
      /SwiftShader Device \(Subzero\) \(software\) and the CPU measured 3\.1× faster \(one decode step took 100 ms on the CPU and 310 ms on WebGPU\)/,
    );
    const g = describeChoice('webgpu', { kind: 'use', backend: 'webgpu', why: 'hardware' }, { preference: 'auto', gpu: gpu(false), threads: 2 });
    expect([g.label, g.cpuKernels]).toEqual(['WebGPU: NVIDIA H200', undefined]);
    expect(g.reason).toMatch(/hardware GPU/);
    expect(
      describeChoice('cpu', { kind: 'use', backend: 'cpu', why: 'no-gpu' }, { preference: 'auto', threads: 1, gpuMissing: 'no adapter found' }).reason,
    ).toBe('no adapter found');
  });

  it('says why when one backend cannot hold the model', () => {
    const plan = { kind: 'measure' } as const;
    expect(describeChoice('cpu', plan, { preference: 'auto', gpu: gpu(true), threads: 1, gpuFailed: 'maxBufferSize 256 MiB < 300 MiB' }).reason).toMatch(
      /but WebGPU cannot run this model \(maxBufferSize/,
    );
    expect(describeChoice('webgpu', plan, { preference: 'auto', gpu: gpu(true), threads: 1, cpuFailed: 'needs 9 GiB of f32' }).reason).toMatch(
      /but the CPU backend cannot hold this model \(needs 9 GiB/,
    );
    // only capacity failures move a load to the CPU; a bad file fails on both
    expect(gpuMayNotFit(new SparseScopeError('device-limits', 'x'))).toBe(true);
    expect(gpuMayNotFit(new SparseScopeError('out-of-memory', 'x'))).toBe(true);
    expect(gpuMayNotFit(new SparseScopeError('missing-tensor', 'x'))).toBe(false);
    expect(gpuMayNotFit(new Error('x'))).toBe(false);
  });

  it('keys the cache by adapter, threads and shape', () => {
    const k = choiceKey(gpu(true), 2, shape, 4000, ['8', '0', '8']);
    expect(k).not.toBe(choiceKey(gpu(true), 1, shape, 4000, ['8', '0']));
    expect(k).not.toBe(choiceKey(gpu(true), 2, { ...shape, layers: 3 }, 4000, ['8', '0']));
    expect(k).not.toBe(choiceKey(gpu(true, 'llvmpipe'), 2, shape, 4000, ['8', '0']));
    expect(k).toBe(choiceKey(gpu(true), 2, shape, 4000, ['0', '8']));
  });
});
