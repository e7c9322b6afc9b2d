/**
 * One call from a GGUF file to the CPU reference of its architecture: the MLA families (deepseek2,
 * deepseek32) through loadReferenceModelData + ReferenceModel, the dense families (llama, qwen2,
 * qwen3) through their description (src/model/architectures/) + DenseTransformerReference. Both
 * dequantize every weight to f32 after the same checks (tensors present with their shapes, the f32
 * total within the memory limit, every value finite).
 */
import { assertFiniteValues } from '../../gguf/codecs/finite.ts';
import type { GgufFile } from '../../gguf/reader.ts';
import { checkModelTensors, describeModel } from '../architectures/index.ts';
import type { DenseModelConfig } from '../architectures/dense.ts';
import { activationRounding } from './activation-quant.ts';
import { ReferenceModel } from './forward.ts';
import { DenseTransformerReference } from './parts/dense-transformer.ts';
import { assertF32WeightsFit, loadReferenceModelData, weightsFromMap, type ReferenceLoadOptions, type ReferenceWeights } from './weights.ts';

/** What every reference model offers, whatever its family. */
export interface AnyReferenceModel {
  readonly config: { readonly arch: string; readonly vocab: number; readonly contextLength: number; readonly layers: number; readonly embd: number };
  session(options?: { trace?: boolean }): AnyReferenceSession;
  forward(tokens: readonly number[]): { logits: Float32Array[] };
}

export interface AnyReferenceSession {
  readonly position: number;
  step(token: number): { logits: Float32Array };
}

/** Reads, checks and dequantizes a dense family's weights (as loadReferenceModelData does for MLA). */
export async function loadDenseReferenceData(
  file: GgufFile,
  options: ReferenceLoadOptions = {},
): Promise<{ config: DenseModelConfig; weights: ReferenceWeights }> {
  const d = describeModel(file.metadata, file.tensors);
  if (d.kind !== 'dense') throw new TypeError(`loadDenseReferenceData: ${d.config.arch} is not a dense family`);
  const present = checkModelTensors(d, file.tensors);
  await assertF32WeightsFit(present, options);
  const map = new Map<string, Float32Array>();
  for (const spec of present) {
    const values = await file.readF32(spec.name);
    assertFiniteValues(spec.name, values);
    map.set(spec.name, values);
  }
  const weights = weightsFromMap(map);
  if (options.emulateActivationQuant) {
    const types = new Map(file.tensors.map((t) => [t.name, t.type]));
    weights.roundInput = (name) => activationRounding(types.get(name) ?? -1);
  }
  return { config: d.config, weights };
}

/**
 * The reference model of any supported file: a ReferenceModel (deepseek2 / deepseek32) or a
 * DenseTransformerReference (llama / qwen2 / qwen3). Unknown architectures: 'unknown-architecture'
 * naming every supported one.
 */
export async function loadAnyReferenceModel(
  file: GgufFile,
  options: ReferenceLoadOptions = {},
): Promise<AnyReferenceModel & (ReferenceModel | DenseTransformerReference)> {
  const d = describeModel(file.metadata, file.tensors);
  if (d.kind === 'dense') {
    const { config, weights } = await loadDenseReferenceData(file, options);
    return new DenseTransformerReference(config, weights);
  }
  const { config, weights } = await loadReferenceModelData(file, options);
  return new ReferenceModel(config, weights);
}
