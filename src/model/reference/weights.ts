/**
 * Where the reference gets its weights: by GGUF tensor name, dequantized to f32 (ne order). Tests
 * hand in random in-memory weights; the CLI loads them from a GGUF file.
 */
import { SparseScopeError } from '../../errors.ts';
import type { GgufFile } from '../../gguf/reader.ts';
import { readModelConfig, type ModelConfig } from '../config.ts';
import { checkTensors } from '../weights-spec.ts';

export interface ReferenceWeights {
  /** the tensor's values (f32, ne order); throws 'missing-tensor' when absent */
  get(name: string): Float32Array;
  has(name: string): boolean;
}

export function weightsFromMap(map: ReadonlyMap<string, Float32Array>): ReferenceWeights {
  return {
    get(name) {
      const w = map.get(name);
      if (w === undefined) throw new SparseScopeError('missing-tensor', `tensor "${name}" is missing`);
      return w;
    },
    has: (name) => map.has(name),
  };
}

/** Reads the config, checks every tensor's presence and shape, then dequantizes them all. */
export async function loadReferenceModelData(file: GgufFile): Promise<{ config: ModelConfig; weights: ReferenceWeights }> {
  const config = readModelConfig(file.metadata, file.tensors);
  const present = checkTensors(config, file.tensors);
  const map = new Map<string, Float32Array>();
  for (const spec of present) map.set(spec.name, await file.readF32(spec.name));
  return { config, weights: weightsFromMap(map) };
}
