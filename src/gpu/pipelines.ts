/**
 * Compute pipelines cached per device by a typed key: a kernel name plus the variant values that
 * change its WGSL (workgroup size, f16 or f32, subgroups). The label carries the variant so GPU
 * errors and captures name the exact shader.
 */
import { recordInPass } from './pass-scope.ts';
export interface PipelineKey {
  kernel: string;
  variant: Record<string, string | number | boolean>;
}

const caches = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

export function keyString(key: PipelineKey): string {
  const parts = Object.keys(key.variant)
    .sort()
    .map((k) => `${k}=${key.variant[k]}`);
  return `${key.kernel}[${parts.join(',')}]`;
}

export function getPipeline(device: GPUDevice, key: PipelineKey, makeCode: () => string, entryPoint = 'main'): GPUComputePipeline {
  let cache = caches.get(device);
  if (!cache) caches.set(device, (cache = new Map()));
  const k = keyString(key);
  let p = cache.get(k);
  if (!p) {
    const module = device.createShaderModule({ label: k, code: makeCode() });
    p = device.createComputePipeline({ label: k, layout: 'auto', compute: { module, entryPoint } });
    cache.set(k, p);
  }
  return p;
}

/** A bind group whose entries are the buffers in binding order 0..n-1. */
/**
 * A storage binding: a whole buffer, or a range of one (offset a multiple of the device's
 * minStorageBufferOffsetAlignment), e.g. one matrix's block of a multi-matrix matvec's output.
 */
export type BufferArg = GPUBuffer | GPUBufferBinding;

export function bufferResource(b: BufferArg): GPUBufferBinding {
  return 'buffer' in b ? b : { buffer: b };
}

export function bindBuffers(device: GPUDevice, pipeline: GPUComputePipeline, buffers: BufferArg[], label: string): GPUBindGroup {
  return device.createBindGroup({
    label,
    layout: pipeline.getBindGroupLayout(0),
    entries: buffers.map((b, binding) => ({ binding, resource: bufferResource(b) })),
  });
}

/** Encodes one dispatch: in its own pass, or in the encoder's shared one inside `inOnePass`. */
export function encodeDispatch(enc: GPUCommandEncoder, pipeline: GPUComputePipeline, bindGroup: GPUBindGroup, workgroups: [number, number?, number?]): void {
  recordInPass(enc, pipeline.label, (pass) => {
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
  });
}
