/**
 * One call from a GGUF file to the CPU reference of its architecture: the file is described
 * (src/model/architectures/: readModelConfig for deepseek2 / deepseek32, the dense descriptions for
 * llama / qwen2 / qwen3), its tensors checked against that description and dequantized to f32, and
 * the family's model built: ReferenceModel (forward.ts) or DenseTransformerReference (parts/).
 */
import { SparseScopeError } from '../../errors.ts';
import { assertFiniteValues } from '../../gguf/codecs/finite.ts';
import type { GgufFile } from '../../gguf/reader.ts';
import { checkModelTensors, describeModel, type ModelDescription } from '../architectures/index.ts';
import type { DenseModelConfig } from '../architectures/dense.ts';
import { activationRounding } from './activation-quant.ts';
import { ReferenceModel } from './forward.ts';
import { DenseTransformerReference } from './parts/dense-transformer.ts';
import { assertF32WeightsFit, weightsFromMap, type ReferenceLoadOptions, type ReferenceWeights } from './weights.ts';

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

export interface AnyLoadOptions extends ReferenceLoadOptions {
  /** after each tensor: the file bytes read so far of the total (CpuModel's progress) */
  onProgress?: (p: { loadedBytes: number; totalBytes: number; tensor: string }) => void;
  /** checked before each tensor read: an aborted load throws 'aborted' */
  signal?: AbortSignal;
}

/**
 * The checks and reads every CPU load makes, for any description: tensors present with their
 * shapes (block_count first), the f32 total within the memory limit before the first read, each
 * tensor dequantized and checked finite, activation rounding attached when asked.
 */
async function readReferenceWeights(file: GgufFile, d: ModelDescription, options: AnyLoadOptions): Promise<ReferenceWeights> {
  const present = checkModelTensors(d, file.tensors);
  await assertF32WeightsFit(present, options);
  const bytes = new Map(file.tensors.map((t) => [t.name, t.byteLength]));
  const totalBytes = present.reduce((a, s) => a + (bytes.get(s.name) ?? 0), 0);
  let loadedBytes = 0;
  const map = new Map<string, Float32Array>();
  for (const spec of present) {
    if (options.signal?.aborted) throw new SparseScopeError('aborted', 'the model load was cancelled');
    const values = await file.readF32(spec.name);
    // one NaN in a weight would poison every logit
    assertFiniteValues(spec.name, values);
    map.set(spec.name, values);
    loadedBytes += bytes.get(spec.name) ?? 0;
    options.onProgress?.({ loadedBytes, totalBytes, tensor: spec.name });
  }
  const weights = weightsFromMap(map);
  if (options.emulateActivationQuant) {
    const types = new Map(file.tensors.map((t) => [t.name, t.type]));
    weights.roundInput = (name) => activationRounding(types.get(name) ?? -1);
  }
  return weights;
}

/** Reads, checks and dequantizes a dense family's weights (as loadReferenceModelData does for MLA). */
export async function loadDenseReferenceData(file: GgufFile, options: AnyLoadOptions = {}): Promise<{ config: DenseModelConfig; weights: ReferenceWeights }> {
  const d = describeModel(file.metadata, file.tensors);
  if (d.kind !== 'dense') throw new SparseScopeError('bad-argument', `loadDenseReferenceData: ${d.config.arch} is not a dense family (llama, qwen2, qwen3)`);
  return { config: d.config, weights: await readReferenceWeights(file, d, options) };
}

/**
 * The reference model of any supported file: a ReferenceModel (deepseek2 / deepseek32, the same
 * checks and weights as loadReferenceModelData) or a DenseTransformerReference (llama / qwen2 /
 * qwen3). Unknown architectures: 'unknown-architecture' naming every supported one.
 */
export async function loadAnyReferenceModel(
  file: GgufFile,
  options: AnyLoadOptions = {},
): Promise<AnyReferenceModel & (ReferenceModel | DenseTransformerReference)> {
  const d = describeModel(file.metadata, file.tensors);
  const weights = await readReferenceWeights(file, d, options);
  return d.kind === 'dense' ? new DenseTransformerReference(d.config, weights) : new ReferenceModel(d.config, weights);
}
