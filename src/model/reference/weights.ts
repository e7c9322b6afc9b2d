/**
 * Where the reference gets its weights: by GGUF tensor name, dequantized to f32 (ne order). Tests
 * hand in random in-memory weights; the CLI loads them from a GGUF file.
 */
import { assertFiniteValues } from '../../gguf/codecs/finite.ts';
import { SparseScopeError } from '../../errors.ts';
import type { GgufFile } from '../../gguf/reader.ts';
import { readModelConfig, type ModelConfig } from '../config.ts';
import { checkTensors } from '../weights-spec.ts';
import { activationRounding } from './activation-quant.ts';
import { matvec } from './math.ts';

export interface ReferenceWeights {
  /** the tensor's values (f32, ne order); throws 'missing-tensor' when absent */
  get(name: string): Float32Array;
  has(name: string): boolean;
  /** optional: how a matmul input is rounded for this weight (emulating llama.cpp's CPU path) */
  roundInput?(name: string): ((x: Float32Array) => Float32Array) | null;
}

/** y = W · x for the weight `name`, with the input rounded as `roundInput` says (see matvec). */
export function linear(w: ReferenceWeights, name: string, x: Float32Array, inDim: number, outDim: number, rowOffset = 0, xOffset = 0): Float32Array {
  const r = w.roundInput?.(name);
  if (r) return matvec(w.get(name), r(x.subarray(xOffset, xOffset + inDim)), inDim, outDim, rowOffset);
  return matvec(w.get(name), x, inDim, outDim, rowOffset, xOffset);
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

/**
 * Reads the config, checks every tensor's presence and shape, then dequantizes them all.
 * `emulateActivationQuant`: round matmul inputs as llama.cpp's CPU backend does for each weight type.
 */
export async function loadReferenceModelData(file: GgufFile, options: { emulateActivationQuant?: boolean } = {}): Promise<{ config: ModelConfig; weights: ReferenceWeights }> {
  const config = readModelConfig(file.metadata, file.tensors);
  const present = checkTensors(config, file.tensors);
  const map = new Map<string, Float32Array>();
  for (const spec of present) {
    const values = await file.readF32(spec.name);
    // dequantized values are finite exactly when the file's are: one NaN would poison every logit
    assertFiniteValues(spec.name, values);
    map.set(spec.name, values);
  }
  const weights = weightsFromMap(map);
  if (options.emulateActivationQuant) {
    const types = new Map(file.tensors.map((t) => [t.name, t.type]));
    weights.roundInput = (name) => activationRounding(types.get(name) ?? -1);
  }
  return { config, weights };
}
