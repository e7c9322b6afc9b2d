/**
 * What ModelRuntime needs from a loaded model, so one runtime drives both backends: WebGpuModel (WGSL
 * passes, sampling on the GPU) and CpuModel (the reference forward, sampling by the GPU sampler's CPU
 * twin). A session feeds tokens at the next positions over caches the model shares between its
 * sessions (only the newest session may be used).
 */
import type { ModelConfig } from '../model/config.ts';
import type { DenseModelConfig } from '../model/architectures/index.ts';
import type { TokenTrace } from '../model/reference/forward.ts';
import type { SamplerSettings } from '../gpu/shaders/sampling/sampling.ref.ts';

export interface SampleRequest {
  settings: SamplerSettings;
  /** The tokens so far, including the ones being fed (the repetition penalty's window). */
  history: readonly number[];
  /** The draw's number: a draw depends only on (seed, step). */
  step: number;
}

export interface RuntimeSession {
  readonly position: number;
  readonly topK: number;
  /** Logits f32 [V] for the token after the last fed one (every fed one's with allLogits), traces when the session traces. */
  feed(tokens: readonly number[], o?: { allLogits?: boolean }): Promise<{ logits: Float32Array[]; trace?: TokenTrace[] }>;
  /** Feeds, then samples the next token; `logits` only where the backend has them on the host anyway (CPU). */
  feedAndSample(tokens: readonly number[], sample: SampleRequest): Promise<{ token: number; logits?: Float32Array; trace?: TokenTrace[] }>;
}

/** What a session is opened with (every backend takes all three). */
export interface SessionOptions {
  /** deepseek32: override the file's indexer top-k; 0 = dense */
  indexTopK?: number;
  trace?: boolean;
  /** oracle top-k sparse attention (src/model/reference/oracle-topk.ts); 0 / absent = off */
  oracleTopK?: number;
}

export interface RuntimeModel {
  readonly backend: 'cpu' | 'webgpu';
  /** MLA families: ModelConfig; dense families: DenseModelConfig (family: 'dense') */
  readonly config: ModelConfig | DenseModelConfig;
  /** Positions a session can hold. */
  readonly capacity: number;
  /** The adapter can time passes with GPU timestamps (the Speed view); false on the CPU. */
  readonly hasTimestamps: boolean;
  session(o?: SessionOptions): RuntimeSession;
  destroy(): void;
}
