/**
 * The one place that requests a WebGPU adapter and device. Works wherever a `GPU` object exists:
 * `navigator.gpu` in a page or Worker, or Dawn's in Node (see ./node/node-gpu.ts).
 * It records the adapter's features and limits, asks for the optional features the kernels use
 * (shader-f16, subgroups, timestamp-query) and the largest buffer limits the adapter allows, and
 * turns `device.lost` and `uncapturederror` into typed events for whoever owns the engine.
 */
import { SparseScopeError } from '../errors.ts';

/** Optional features the kernels use when present; each has a fallback path. */
const OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query'];

/** Limits raised to the adapter's maximum: big weight tensors and wide workgroups need them. */
const RAISED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
] as const;

export interface GpuInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A short human name: the description when the driver gives one, else vendor + architecture. */
  name: string;
  features: string[];
  limits: Record<string, number>;
  hasF16: boolean;
  hasSubgroups: boolean;
  hasTimestamps: boolean;
  /** A CPU rasterizer (SwiftShader, llvmpipe/lavapipe, WARP): kernels pick their software variants. Set for every adapter (absent only where no GPU is involved). */
  software?: boolean;
}

/** Software adapters by what they report: the fallback flag where the browser sets it, else their names. */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|software|warp|basic render/i;

export function isSoftwareAdapter(ai: Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'description'> & { isFallbackAdapter?: boolean }): boolean {
  return ai.isFallbackAdapter === true || SOFTWARE_ADAPTER.test(`${ai.vendor} ${ai.architecture} ${ai.description}`);
}

export type GpuEvent =
  { kind: 'lost'; reason: string; message: string } | { kind: 'error'; errorType: 'validation' | 'out-of-memory' | 'internal' | 'unknown'; message: string };

export interface GpuContext {
  /**
   * The GPU object the device came from. Held on purpose: in Dawn for Node, the instance behind a
   * garbage-collected GPU object is destroyed under its live devices, and the process then crashes
   * at a random later moment (seen as pthread/futex aborts mid-readback).
   */
  gpu: GPU;
  device: GPUDevice;
  info: GpuInfo;
  /** True once the device is lost; every later GPU call must go through a new context. */
  readonly isLost: boolean;
  /** Subscribe to lost/error events; returns an unsubscribe function. */
  on(listener: (e: GpuEvent) => void): () => void;
  destroy(): void;
}

export async function requestGpu(gpu: GPU | undefined, powerPreference: GPUPowerPreference = 'high-performance'): Promise<GpuContext> {
  if (!gpu) {
    throw new SparseScopeError(
      'no-webgpu',
      'WebGPU is not available here. SparseScope needs a browser with WebGPU: Chrome or Edge 113+ on Windows, macOS or ChromeOS, ' +
        'Chrome on Linux or Android with WebGPU enabled (chrome://flags/#enable-unsafe-webgpu), Safari 26+, or Firefox 141+ on Windows.',
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference });
  if (!adapter) {
    throw new SparseScopeError('no-adapter', 'WebGPU is present but no GPU adapter was found (the GPU may be blocklisted or the driver missing).');
  }
  const features = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits, label: 'sparsescope' });
  return wrapDevice(gpu, device, describeAdapter(adapter, device));
}

function describeAdapter(adapter: GPUAdapter, device: GPUDevice): GpuInfo {
  const ai = adapter.info;
  const limits: Record<string, number> = {};
  // GPUSupportedLimits is an interface object: its members live on the prototype, so list them by name.
  for (const key of limitNames(device.limits)) limits[key] = Number((device.limits as unknown as Record<string, number>)[key]);
  const features = [...device.features].map(String).sort();
  const name = ai.description || [ai.vendor, ai.architecture, ai.device].filter(Boolean).join(' ') || 'unknown adapter';
  return {
    vendor: ai.vendor,
    architecture: ai.architecture,
    device: ai.device,
    description: ai.description,
    name,
    features,
    limits,
    hasF16: device.features.has('shader-f16'),
    hasSubgroups: device.features.has('subgroups'),
    hasTimestamps: device.features.has('timestamp-query'),
    software: isSoftwareAdapter(ai),
  };
}

function limitNames(limits: GPUSupportedLimits): string[] {
  const names = new Set<string>();
  for (let o: object | null = limits; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const k of Object.getOwnPropertyNames(o)) if (k.startsWith('max') || k.startsWith('min')) names.add(k);
  }
  return [...names].sort();
}

function wrapDevice(gpu: GPU, device: GPUDevice, info: GpuInfo): GpuContext {
  const listeners = new Set<(e: GpuEvent) => void>();
  let isLost = false;
  const emit = (e: GpuEvent) => listeners.forEach((l) => l(e));
  device.lost.then((l) => {
    isLost = true;
    emit({ kind: 'lost', reason: l.reason, message: l.message || 'the GPU device was lost' });
  });
  device.addEventListener('uncapturederror', (ev) => {
    const err = (ev as GPUUncapturedErrorEvent).error;
    const errorType =
      typeof GPUValidationError !== 'undefined' && err instanceof GPUValidationError
        ? 'validation'
        : typeof GPUOutOfMemoryError !== 'undefined' && err instanceof GPUOutOfMemoryError
          ? 'out-of-memory'
          : typeof GPUInternalError !== 'undefined' && err instanceof GPUInternalError
            ? 'internal'
            : 'unknown';
    emit({ kind: 'error', errorType, message: err.message });
  });
  return {
    gpu,
    device,
    info,
    get isLost() {
      return isLost;
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    destroy() {
      device.destroy();
    },
  };
}
