/**
 * The one place the CLI chooses an engine. Each backend gives incremental sessions over a loaded
 * model: feed tokens, get the next-token logits (every fed position's with `allLogits`) and, when the
 * session traces, a TokenTrace per fed token.
 */
import { SparseScopeError } from '../errors.ts';
import type { GgufFile } from '../gguf/reader.ts';
import type { ModelConfig } from '../model/config.ts';
import { ReferenceModel, type TokenTrace } from '../model/reference/forward.ts';
import { loadReferenceModelData } from '../model/reference/weights.ts';

export type BackendKind = 'cpu' | 'webgpu';
export const BACKENDS: readonly BackendKind[] = ['cpu', 'webgpu'];

export interface FeedResult {
  logits: Float32Array[];
  trace?: TokenTrace[];
}

export interface BackendSession {
  feed(tokens: readonly number[], o?: { allLogits?: boolean }): Promise<FeedResult>;
}

export interface Backend {
  readonly kind: BackendKind;
  readonly config: ModelConfig;
  /** indexTopK overrides the file's indexer top-k (0 = dense); trace records a TokenTrace per token */
  session(options?: { indexTopK?: number; trace?: boolean }): BackendSession;
  close(): void;
}

export async function createBackend(kind: BackendKind, file: GgufFile, contextSize?: number): Promise<Backend> {
  switch (kind) {
    case 'cpu': {
      const { config, weights } = await loadReferenceModelData(file);
      const model = new ReferenceModel(config, weights);
      return {
        kind,
        config,
        session: (o) => {
          const s = model.session(o);
          return {
            async feed(tokens, fo = {}) {
              const steps = tokens.map((t) => s.step(t));
              const logits = fo.allLogits ? steps.map((r) => r.logits) : [steps[steps.length - 1].logits];
              return o?.trace ? { logits, trace: steps.map((r) => r.trace!) } : { logits };
            },
          };
        },
        close() {},
      };
    }
    case 'webgpu': {
      // Loaded on demand: the CPU path never touches Dawn.
      const [{ nodeGpu }, { requestGpu }, { WebGpuModel }] = await Promise.all([
        import('../gpu/node/node-gpu.ts'),
        import('../gpu/device.ts'),
        import('../engine/webgpu/webgpu-model.ts'),
      ]);
      const ctx = await requestGpu(await nodeGpu());
      const model = await WebGpuModel.load(ctx, file, { contextSize });
      return {
        kind,
        config: model.config,
        session: (o) => model.session(o),
        close() {
          model.destroy();
          ctx.destroy();
        },
      };
    }
    default:
      throw new SparseScopeError('bad-argument', `unknown backend "${kind as string}"; supported: ${BACKENDS.join(', ')}`);
  }
}
