/**
 * Small helpers shared by the layernorm, swiglu, add, rope, mla and dsa dispatchers:
 * WGSL assembly (the uniform struct plus `const` declarations for the variant; WGSL compilers fold
 * `if (CONST)` branches, so variants need no preprocessor), 1-D grids that respect the per-dimension
 * workgroup limit, and prepared kernels (bind groups built once, encoded every step).
 */
import { SparseScopeError } from '../../../errors.ts';
import { wgslStruct, packParams, paramByteSize, type ParamLayout, type ParamValues } from '../../params.ts';
import { recordInPass } from '../../pass-scope.ts';
import { bufferResource, type BufferArg } from '../../pipelines.ts';

export type ConstValue = boolean | number | { u32: number } | { f32: number };

function constDecl(name: string, v: ConstValue): string {
  if (typeof v === 'boolean') return `const ${name}: bool = ${v};`;
  if (typeof v === 'number') return `const ${name}: u32 = ${v >>> 0}u;`;
  if ('u32' in v) return `const ${name}: u32 = ${v.u32 >>> 0}u;`;
  return `const ${name}: f32 = ${Number(v.f32).toExponential()};`;
}

/** Fills `{{PARAMS}}` with the uniform struct and `{{CONSTS}}` with one `const` per variant value. */
export function assemble(source: string, layout: ParamLayout | null, consts: Record<string, ConstValue> = {}): string {
  const decls = Object.entries(consts)
    .map(([k, v]) => constDecl(k, v))
    .join('\n');
  return source.replace('{{PARAMS}}', layout ? wgslStruct('Params', layout) : '').replace('{{CONSTS}}', decls);
}

/**
 * A grid of `groups` workgroups laid out as [x, y] within the per-dimension limit; the shader
 * recovers the flat id as `wid.x + wid.y * nwg.x` and must guard the tail.
 */
export function grid1d(device: GPUDevice, groups: number): [number, number] {
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [Math.max(1, groups), 1];
  const y = Math.ceil(groups / max);
  if (y > max) throw new SparseScopeError('device-limits', `${groups} workgroups exceed the device's grid`);
  return [Math.ceil(groups / y), y];
}

export function checkGroups(device: GPUDevice, n: number, what: string): void {
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (n > max) throw new SparseScopeError('device-limits', `${what}: ${n} workgroups in one dimension, the device allows ${max}`);
}

/** A prepared kernel: encode() records its dispatches; destroy() frees the buffers it owns (uniforms, scratch). */
export interface PreparedKernel {
  encode(enc: GPUCommandEncoder): void;
  destroy(): void;
}

export interface Step {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  grid: [number, number?, number?];
}

/**
 * Records the steps in one compute pass (dispatches in a pass run in order, storage writes visible to the
 * next): the encoder's shared pass inside `inOnePass` (src/gpu/pass-scope.ts), else a pass of their own.
 */
export function encodeSteps(enc: GPUCommandEncoder, steps: Step[], label: string): void {
  recordInPass(enc, label, (pass) => {
    for (const s of steps) {
      pass.setPipeline(s.pipeline);
      pass.setBindGroup(0, s.bindGroup);
      pass.dispatchWorkgroups(s.grid[0], s.grid[1] ?? 1, s.grid[2] ?? 1);
    }
  });
}

export function badArg(message: string): SparseScopeError {
  return new SparseScopeError('bad-argument', message);
}

/**
 * A one-dispatch kernel built once (pipeline, uniform, bind group): the hot-path form of the small
 * kernels (rmsnorm, layernorm, rope, copy-rows, accumulate, add, swiglu, moe-router). `step` holds the
 * fields that change per step (rope's pos0, a cache copy's destination row): encode writes them into
 * the uniform only when they changed, so a decode step allocates nothing. Like the other prepared
 * kernels, encode each one once per submit (the write lands before the submit, in queue order).
 */
export interface PreparedDispatch<S = void> {
  encode(enc: GPUCommandEncoder, step: S): void;
  destroy(): void;
}

export function prepareDispatch<L extends ParamLayout, S = void>(
  device: GPUDevice,
  a: {
    pipeline: GPUComputePipeline;
    layout: L;
    values: ParamValues<L>;
    /** Storage buffers (or ranges of them) after the uniform, in binding order 1..n. */
    buffers: BufferArg[];
    grid: [number, number?, number?];
    label: string;
    /** The per-step fields (merged over `values`). */
    perStep?: (step: S) => Partial<ParamValues<L>>;
  },
): PreparedDispatch<S> {
  const params = device.createBuffer({ label: `${a.label}:params`, size: paramByteSize(a.layout), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const bindGroup = device.createBindGroup({
    label: a.label,
    layout: a.pipeline.getBindGroupLayout(0),
    entries: [params, ...a.buffers].map((b, binding) => ({ binding, resource: bufferResource(b) })),
  });
  const steps: Step[] = [{ pipeline: a.pipeline, bindGroup, grid: a.grid }];
  let written: Uint32Array | undefined;
  return {
    encode(enc, step) {
      const values = a.perStep ? { ...a.values, ...a.perStep(step) } : a.values;
      const data = new Uint32Array(packParams(a.layout, values));
      // Rewrite only when a per-step field moved (decode: rope's pos0 and the cache row, every step).
      if (!written || data.some((v, i) => v !== written![i])) {
        device.queue.writeBuffer(params, 0, data);
        written = data;
      }
      encodeSteps(enc, steps, a.label);
    },
    destroy() {
      params.destroy();
    },
  };
}
