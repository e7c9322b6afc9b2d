/**
 * The one place the CLI chooses an engine. Each backend gives incremental sessions over a loaded
 * model: feed a token, get the next-token logits (and, on the CPU, a trace).
 */
import { SparseScopeError } from '../errors.ts';
import type { GgufFile } from '../gguf/reader.ts';
import type { ModelConfig } from '../model/config.ts';
import { ReferenceModel, type TokenTrace } from '../model/reference/forward.ts';
import { loadReferenceModelData } from '../model/reference/weights.ts';

export type BackendKind = 'cpu' | 'webgpu';
export const BACKENDS: readonly BackendKind[] = ['cpu', 'webgpu'];

export interface BackendSession {
  step(token: number): { logits: Float32Array; trace?: TokenTrace };
}

export interface Backend {
  readonly kind: BackendKind;
  readonly config: ModelConfig;
  /** indexTopK overrides the file's indexer top-k (0 = dense); trace records a TokenTrace per step */
  session(options?: { indexTopK?: number; trace?: boolean }): BackendSession;
}

export async function createBackend(kind: BackendKind, file: GgufFile): Promise<Backend> {
  switch (kind) {
    case 'cpu': {
      const { config, weights } = await loadReferenceModelData(file);
      const model = new ReferenceModel(config, weights);
      return { kind, config, session: (o) => model.session(o) };
    }
    case 'webgpu':
      throw new SparseScopeError('not-implemented', 'the WebGPU backend is not available in the CLI yet; use --backend cpu');
    default:
      throw new SparseScopeError('bad-argument', `unknown backend "${kind as string}"; supported: ${BACKENDS.join(', ')}`);
  }
}
