/**
 * The one typed protocol between the UI and the engine. The Worker exposes `EngineApi` with comlink;
 * `InProcessEngine` (src/engine) implements the same interface, so Node code and tests use the engine
 * without a worker. Every event carries its payload type through its `kind` (no casts per message).
 * Callbacks cross the worker boundary as comlink proxies (see src/worker/client.ts).
 */
import type { GpuInfo } from '../gpu/device.ts';
import type { ErrorCode } from '../errors.ts';
import type { MemoryPlan } from '../model/memory-plan.ts';

/** Where a model comes from. Files and Blobs are streamed by range, never read whole. */
export type ModelSource =
  | { kind: 'url'; url: string; name?: string }
  | { kind: 'blob'; blob: Blob; name: string }
  /** every part of a split GGUF set (any order), e.g. dropped together; a `url` source finds a set's other parts itself */
  | { kind: 'blobs'; blobs: Blob[]; name: string }
  | { kind: 'path'; path: string };

export type LoadEvent =
  | {
      kind: 'header';
      arch: string;
      tensorCount: number;
      fileBytes: number;
      /** Optional, for the UI's fit verdict before the weights stream: what the GPU will have to hold. */
      estimatedGpuBytes?: number;
      largestTensorBytes?: number;
      quantTypes?: string[];
      contextLength?: number;
      shape?: AnyModelShape;
      /** the memory plan (src/model/memory-plan.ts) for the context the page loads */
      memory?: MemoryPlan;
    }
  | { kind: 'progress'; loadedBytes: number; totalBytes: number; tensor: string }
  | { kind: 'ready'; model: ModelSummary };

export interface ModelSummary {
  name: string;
  arch: string;
  fileBytes: number;
  /** Parameters and cache facts the UI shows; computed from the config. */
  layers: number;
  contextLength: number;
  vocabSize: number;
  /** 'remote': an OpenAI-compatible server the page talks to (src/ui/remote); no weights in the page. */
  backend: 'cpu' | 'webgpu' | 'remote';
  /** Optional: the architecture sizes the Memory view computes cache bytes from (MLA or dense GQA). */
  shape?: AnyModelShape;
  /** Optional: the file's indexer top-k (DSA models), the classroom slider's default. */
  indexTopK?: number;
  /** Optional: the chat format the engine renders conversations with, and whether it has a thinking mode. */
  chatFormat?: ChatFormatInfo;
  /** Optional: which backend the engine chose for this model and why (src/engine/backend-choice.ts). */
  backendChoice?: BackendChoice;
  /** Optional: the decode matvec variant the tuner measured fastest per kernel class, one line each (WebGPU, when tuned). */
  matvecTuning?: string[];
}

/** Which backend loads a model: `auto` measures where it is not obvious (docs/backends.md). */
export type BackendPreference = 'auto' | 'webgpu' | 'cpu';

/** Per load: the backend to use, and the CPU backend's threads (default: the engine's). */
export interface LoadOptions {
  backend?: BackendPreference;
  threads?: number;
}

/** The backend a model runs on, as the GPU panel and the bench say it. */
export interface BackendChoice {
  backend: 'webgpu' | 'cpu';
  preference: BackendPreference;
  /** e.g. "CPU (WebAssembly SIMD), 2 threads", "CPU, 1 thread" (TypeScript kernels) or "WebGPU: NVIDIA …". */
  label: string;
  /** Why, in one sentence, from measured numbers where it was measured. */
  reason: string;
  threads?: number;
  /** CPU only: what runs the decode dots, "WebAssembly SIMD" or "TypeScript (no SIMD: why)". */
  cpuKernels?: string;
  /** The WebGPU adapter's name, when there is one. */
  adapter?: string;
  /** One decode step on each backend, ms, when they were compared (possibly earlier, from the cache). */
  timing?: { webgpuMs: number; cpuMs: number; threads: number };
}

/** `gpu: false`: the page has no WebGPU (navigator.gpu), so the engine runs on the CPU without asking its own. */
export interface InitOptions {
  gpu?: boolean;
}

/** What init() resolves with: the adapter, or without one a CPU description and why there is no GPU. */
export type EngineInfo = GpuInfo & {
  gpuUnavailable?: { code: 'no-webgpu' | 'no-adapter'; message: string };
  /** The engine's own thread is cross-origin isolated (SharedArrayBuffer for the CPU backend's threads); absent outside browsers. */
  isolated?: boolean;
};

/** Which chat format renders this model's conversations (docs/chat-formats.md). */
export interface ChatFormatInfo {
  /** 'file' (the GGUF's Jinja template), a family ('deepseek-v3', 'deepseek-v3.1', 'deepseek-v3.2', 'deepseek-v2') or 'fallback'. */
  format: string;
  label: string;
  /** The format has a thinking mode (`<think>`…`</think>`): GenerateRequest.thinking switches it. */
  thinking: boolean;
}

/**
 * Architecture sizes a UI needs (cache bytes, axes); every field straight from the GGUF metadata.
 * The MLA families (deepseek2 / deepseek32); a dense GQA family has a DenseShape instead.
 */
export interface ModelShape {
  family?: 'mla';
  layers: number;
  embedding: number;
  heads: number;
  qLoraRank: number;
  kvLoraRank: number;
  /** Per-head query/key dims without and with rotary embedding, and the value dim. */
  nopeDim: number;
  ropeDim: number;
  vDim: number;
  indexerHeads?: number;
  indexerDim?: number;
  indexerTopK?: number;
  experts?: number;
  expertsUsed?: number;
  sharedExperts?: number;
  leadingDenseLayers?: number;
  contextLength: number;
}

/** A dense GQA family (llama / qwen2 / qwen3): no latent cache, no indexer, no experts. */
export interface DenseShape {
  family: 'dense';
  layers: number;
  embedding: number;
  heads: number;
  /** key/value heads: the cache holds headsKv · headDim keys and as many values per token per layer */
  headsKv: number;
  headDim: number;
  ffn: number;
  contextLength: number;
}

/** Either family's shape; `family === 'dense'` tells them apart (absent = MLA, as before). */
export type AnyModelShape = ModelShape | DenseShape;

export function isDenseShape(s: AnyModelShape | undefined): s is DenseShape {
  return s?.family === 'dense';
}

/** A token as the model saw it. */
export interface TokenText {
  id: number;
  text: string;
}

export interface SamplingOptions {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repetitionPenalty: number;
  seed: number;
}

export interface GenerateRequest {
  /** Either raw prompt text or chat messages rendered with the model's template. */
  prompt?: string;
  messages?: { role: 'system' | 'user' | 'assistant'; content: string }[];
  maxTokens: number;
  sampling: SamplingOptions;
  /** Overrides the file's indexer top-k (0 = dense attention). */
  indexTopK?: number;
  /** Oracle top-k sparse attention (both backends; src/model/reference/oracle-topk.ts); 0 / absent = off. */
  oracleTopK?: number;
  /** Which traces to read back from the GPU for each generated token; nothing when absent. */
  trace?: TraceRequest;
  /** Optional: thinking mode for chat formats that have one (the reply starts with its reasoning); default off. */
  thinking?: boolean;
  /**
   * Optional: give each token event its log-probability and this many most likely alternatives (0–20).
   * On the GPU this reads each logits row back and samples with the sampler's CPU twin (same draws).
   */
  logprobs?: number;
}

/** A generated token's log-probability (natural log, raw model distribution) and the top alternatives. */
export interface TokenLogprob {
  logprob: number;
  top: { id: number; text: string; logprob: number }[];
}

/** A chat template that failed or ran past its bounds; the reply used a plain fallback format. */
export interface TemplateError {
  code: 'template';
  message: string;
}

export type GenerateEvent =
  | {
      kind: 'prefill';
      promptTokens: number;
      ms: number;
      /** Optional: the rendered prompt's tokens, for the views' axes. */
      tokens?: TokenText[];
      /** The file's chat template failed or ran past its bounds: the reply uses a plain fallback format. */
      templateError?: TemplateError;
    }
  | { kind: 'token'; id: number; text: string; index: number; trace?: TokenTrace; logprob?: TokenLogprob }
  /** tokensPerSecond: decode speed, (tokens − 1) over the time from the first token to the last; prefill is in timeToFirstTokenMs. */
  | { kind: 'done'; reason: 'eos' | 'max-tokens' | 'aborted'; tokens: number; tokensPerSecond: number; timeToFirstTokenMs: number };

export interface TraceRequest {
  indexer?: boolean;
  dense?: boolean;
  router?: boolean;
}

/** What one query token's forward pass looked like inside, per layer. */
export interface TokenTrace {
  position: number;
  layers: LayerTrace[];
  /** Optional: the token at this position (trace() over a prompt fills it, for axis labels). */
  token?: TokenText;
  /** Optional: wall time of this token's forward pass, ms. */
  ms?: number;
}

export interface LayerTrace {
  /** Indexer score for each visible key position 0..position (DSA models only). */
  indexScores?: number[];
  /** Key positions attention ran over (the indexer's top-k), ascending. */
  chosen?: number[];
  /** Dense attention weights over keys 0..position, summed over heads (for comparison). */
  denseWeights?: number[];
  /** MoE layers: router probabilities per expert, the chosen experts and their weights. */
  routerProbs?: number[];
  experts?: number[];
  expertWeights?: number[];
  /** Oracle top-k runs: the positions attended, the k of largest dense weight, ascending. */
  oracle?: number[];
  /** deepseek32 with an oracle top-k: |indexer picks ∩ oracle picks| / |oracle picks|. */
  oracleRecall?: number;
  /** Optional: GPU time of this layer for this token, ms (timestamp queries, when the adapter has them). */
  ms?: number;
}

/**
 * Classroom: one greedy step over a context, under the given indexer top-k AND dense, so the UI can show
 * how sparse attention changes the next-token distribution. Nothing is generated into a conversation.
 */
export interface StepRequest {
  /** Raw context text (no chat template). */
  prompt: string;
  /** Token ids appended after the prompt by earlier steps. */
  appended?: number[];
  /** Indexer top-k for the sparse run (0 = dense). */
  indexTopK: number;
  /** Oracle top-k for the sparse run (any model: the k positions of largest dense weight); 0 / absent = off. */
  oracleTopK?: number;
  /** How many candidates to return (default 5). */
  candidates?: number;
  trace?: TraceRequest;
}

export interface Candidate {
  id: number;
  text: string;
  prob: number;
}

export interface StepResult {
  /** Position of the predicted token (= context length). */
  position: number;
  /** Most probable next tokens under the requested top-k, then under dense attention, descending. */
  candidates: Candidate[];
  denseCandidates: Candidate[];
  /** KL(dense ‖ sparse) of the full next-token distributions, in nats (0 when k covers the context). */
  klToDense: number;
  top1Agrees: boolean;
  /** The last context position's trace under the requested top-k, when asked. */
  trace?: TokenTrace;
}

/**
 * How per-layer times were measured: GPU timestamps written between the passes (adapter feature
 * `timestamp-query`), or, without it, each part submitted alone and waited for on the CPU clock
 * (includes submit/wake-up latency, so only comparable within one run).
 */
export type TimingMethod = 'timestamp-query' | 'cpu-submit-wait';

/** One layer's share of a decode step, ms (mean over the profiled steps). */
export interface LayerTiming {
  layer: number;
  /** The whole layer: attention block (with indexer and attention core) and FFN. */
  ms: number;
  /** The attention core over the cache: only the indexer's top-k rows when sparse, every row when dense. */
  attentionMs: number;
  /** The DSA lightning indexer (projections, index-key cache, scores, top-k); 0 without an indexer. With top-k 0 the keys and scores are still computed (no top-k). */
  indexerMs: number;
  ffnMs: number;
}

/** Speed view: time decode steps layer by layer. Only computed when asked (it costs extra passes). */
export interface ProfileRequest {
  /** Raw context text (no chat template), prefilled before the timed steps. */
  prompt: string;
  /** Indexer top-k for the run (0 = dense); default the file's. */
  indexTopK?: number;
  /** Decode steps to time (greedy continuation), default 8. */
  steps?: number;
  /** Force a method; default timestamp-query where the adapter has it. */
  method?: TimingMethod;
}

export interface ProfileResult {
  method: TimingMethod;
  /** The top-k the run used (0 = dense). */
  indexTopK: number;
  /** Position of the first timed step (= prompt tokens). */
  position: number;
  steps: number;
  /** One entry per layer, in order. */
  layers: LayerTiming[];
  /** Embedding and output head (final norm, logits), ms per step. */
  embedMs: number;
  headMs: number;
  /** Whole step, ms (sum of the parts). */
  totalMs: number;
}

export interface SelfTestResult {
  kernel: string;
  shape: [number, number];
  maxAbsError: number;
  ok: boolean;
}

/** Errors cross the boundary as plain data (structured clone drops class identity). */
export interface EngineErrorData {
  code: ErrorCode;
  message: string;
}

export type EngineStatusEvent = { kind: 'device-lost'; message: string } | { kind: 'gpu-error'; message: string };

export interface EngineApi {
  /**
   * Requests the GPU device; resolves with the adapter's name, features and limits. An engine that can
   * fall back to the CPU resolves without an adapter too, saying why in `gpuUnavailable`.
   */
  init(onStatus?: (e: EngineStatusEvent) => void, options?: InitOptions): Promise<EngineInfo>;
  /** Runs a real kernel against its CPU reference: proves the page → worker → GPU → back path. */
  selfTest(): Promise<SelfTestResult>;
  /** `options`: the backend (and CPU threads) for this load; engines with one backend ignore it. */
  load(source: ModelSource, onEvent: (e: LoadEvent) => void, options?: LoadOptions): Promise<ModelSummary>;
  generate(request: GenerateRequest, onEvent: (e: GenerateEvent) => void): Promise<void>;
  /** Stops the running generation at the next token boundary. */
  abort(): Promise<void>;
  /**
   * The trace of the last forward pass over a whole prompt (every query row), read back on request, under
   * the indexer's top-k (deepseek32) and / or an oracle top-k (any model; 0 / absent = off).
   */
  trace(prompt: string, request: TraceRequest, indexTopK?: number, oracleTopK?: number): Promise<TokenTrace[]>;
  /** Drops the device and everything on it, then initialises again (after a lost device). */
  restart(): Promise<EngineInfo>;
  /** Optional (classroom): one step's next-token distribution under top-k vs dense. */
  step?(request: StepRequest): Promise<StepResult>;
  /** Optional (Speed view): per-layer decode timing, with the method used. */
  profile?(request: ProfileRequest): Promise<ProfileResult>;
}
