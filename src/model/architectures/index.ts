/**
 * Every architecture SparseScope reads, by GGUF `general.architecture`: the MLA families
 * (deepseek2, deepseek32: src/model/config.ts + weights-spec.ts) and the dense GQA families, one
 * data file each (llama.ts, qwen2.ts, qwen3.ts over dense.ts). `describeModel` is the one call that
 * turns a file's metadata and tensor list into a typed description plus its expected tensors.
 * Adding a dense family: one file like qwen3.ts, one line in DENSE_ARCHITECTURES, its tests
 * (docs/architectures.md).
 */
import { SparseScopeError } from '../../errors.ts';
import { SUPPORTED_ARCHITECTURES, readModelConfig, type ModelConfig, type TensorShapeInfo } from '../config.ts';
import { checkTensorList, expectedTensors, type TensorSpec } from '../weights-spec.ts';
import { denseTensors, readDenseConfig, type DenseArchName, type DenseArchitecture, type DenseModelConfig } from './dense.ts';
import { LLAMA } from './llama.ts';
import { QWEN2 } from './qwen2.ts';
import { QWEN3 } from './qwen3.ts';

export type { DenseArchName, DenseArchitecture, DenseModelConfig } from './dense.ts';

export const DENSE_ARCHITECTURES: Readonly<Record<DenseArchName, DenseArchitecture>> = { llama: LLAMA, qwen2: QWEN2, qwen3: QWEN3 };

/** Every `general.architecture` value some engine of SparseScope runs (the CPU reference runs all). */
export const ALL_ARCHITECTURES: readonly string[] = [...SUPPORTED_ARCHITECTURES, ...Object.keys(DENSE_ARCHITECTURES)];

export function isDenseArchitecture(arch: unknown): arch is DenseArchName {
  return typeof arch === 'string' && Object.hasOwn(DENSE_ARCHITECTURES, arch);
}

/** A file's model, described: the MLA families' ModelConfig or a dense family's DenseModelConfig. */
export type ModelDescription =
  | { readonly kind: 'mla'; readonly config: ModelConfig; tensors(): TensorSpec[] }
  | { readonly kind: 'dense'; readonly spec: DenseArchitecture; readonly config: DenseModelConfig; tensors(): TensorSpec[] };

/** Reads any supported architecture; 'unknown-architecture' names every supported one. */
export function describeModel(metadata: Record<string, unknown>, tensors: readonly TensorShapeInfo[]): ModelDescription {
  const arch = metadata['general.architecture'];
  if (arch === undefined)
    throw new SparseScopeError('missing-metadata', `metadata key "general.architecture" is absent; supported architectures: ${ALL_ARCHITECTURES.join(', ')}`);
  if (isDenseArchitecture(arch)) {
    const spec = DENSE_ARCHITECTURES[arch];
    const config = readDenseConfig(spec, metadata, tensors);
    return { kind: 'dense', spec, config, tensors: () => denseTensors(spec, config) };
  }
  if (typeof arch === 'string' && !(SUPPORTED_ARCHITECTURES as readonly string[]).includes(arch)) {
    throw new SparseScopeError('unknown-architecture', `architecture "${arch}" is not supported; supported architectures: ${ALL_ARCHITECTURES.join(', ')}`);
  }
  // deepseek2 / deepseek32 (and a mistyped general.architecture: readModelConfig's bad-metadata)
  const config = readModelConfig(metadata, tensors);
  return { kind: 'mla', config, tensors: () => expectedTensors(config) };
}

/**
 * The file's tensors against the description: block_count first, then every required tensor
 * present with its shape ('missing-tensor' / 'wrong-shape'). Returns the specs present.
 */
export function checkModelTensors(d: ModelDescription, tensors: readonly TensorShapeInfo[]): TensorSpec[] {
  return checkTensorList(d.tensors, d.config.layers, d.config.arch, tensors);
}
