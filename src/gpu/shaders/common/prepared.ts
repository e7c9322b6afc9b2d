/**
 * A prepared kernel: pipeline, bind groups and uniform buffers made once, so encoding a step
 * allocates nothing. One compute pass per encode (or the encoder's shared pass, src/gpu/pass-scope.ts), one dispatch per tensor part.
 */
export interface PreparedKernel {
  /** Records the dispatches in one compute pass (with optional timestamp writes for that pass). */
  encode(enc: GPUCommandEncoder, timestampWrites?: GPUComputePassTimestampWrites): void;
  /** Frees the uniform buffers (not the tensors or the activations). */
  destroy(): void;
}

export interface PreparedStep {
  bg: GPUBindGroup;
  grid: readonly [number, number];
  params: GPUBuffer;
}

import { recordInPass } from '../../pass-scope.ts';

export function preparedKernel(pipeline: GPUComputePipeline, steps: PreparedStep[]): PreparedKernel {
  return {
    encode(enc, timestampWrites) {
      recordInPass(
        enc,
        pipeline.label,
        (pass) => {
          pass.setPipeline(pipeline);
          for (const s of steps) {
            pass.setBindGroup(0, s.bg);
            pass.dispatchWorkgroups(s.grid[0], s.grid[1]);
          }
        },
        timestampWrites,
      );
    },
    destroy() {
      steps.forEach((s) => s.params.destroy());
    },
  };
}
