/**
 * The one place the CLI chooses an engine. Each backend gives incremental sessions over a loaded
 * model: feed tokens, get the next-token logits (every fed position's with `allLogits`) and, when the
 * session traces, a TokenTrace per fed token.
 */
import { SparseScopeError } from '../errors.ts';
import type { GgufFile } from '../gguf/reader.ts';
import type { ModelConfig } from '../model/config.ts';
import type { DenseModelConfig } from '../model/architectures/index.ts';
import type { SessionOptions } from '../engine/runtime-model.ts';
import type { TokenTrace } from '../model/reference/forward.ts';

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
  /** MLA: ModelConfig; dense families: DenseModelConfig */
  readonly config: ModelConfig | DenseModelConfig;
  /**
   * indexTopK overrides the file's indexer top-k (0 = dense); trace records a TokenTrace per token;
   * oracleTopK attends over the k positions of largest dense weight (0 = dense)
   */
  session(options?: SessionOptions): BackendSession;
  close(): void;
}

/** `threads`: the CPU backend's matmul threads (default: the machine's cores, capped); ignored by webgpu. */
export async function createBackend(kind: BackendKind, file: GgufFile, contextSize?: number, o: { threads?: number } = {}): Promise<Backend> {
  switch (kind) {
    case 'cpu': {
      // The CPU twin of WebGpuModel (src/engine/cpu): the reference forward over the file's quantized
      // blocks, matmuls split over `threads`, behind the same session surface.
      const { CpuModel } = await import('../engine/cpu/cpu-model.ts');
      const model = await CpuModel.load(file, { contextSize, threads: o.threads });
      return {
        kind,
        config: model.config,
        session: (o) => model.session(o),
        close: () => model.destroy(),
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
