/**
 * The OpenAI API's request and response objects, as far as SparseScope implements them (one choice,
 * text content), plus the `sparsescope` extension fields. Shared by the engine API (src/api), the
 * server (src/server) and the playground's remote client (src/ui/remote), so all of them speak the
 * same JSON. Field names are the API's (snake_case).
 */
import type { TokenTrace, TraceRequest } from './protocol.ts';

export type ChatRole = 'system' | 'developer' | 'user' | 'assistant';

export interface ChatMessageParam {
  role: ChatRole;
  /** Text, or the API's content parts (only `text` parts are read). */
  content: string | { type: 'text'; text: string }[];
  name?: string;
}

/** Sampling and output fields shared by chat and text completions. */
export interface CompletionOptions {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
  n?: number | null;
  /** SparseScope's extensions (other servers ignore unknown fields). */
  sparsescope?: SparseScopeRequestExtension;
}

export interface SparseScopeRequestExtension {
  /** Per-token traces (indexer scores and choices, dense attention, router) on each token. */
  trace?: TraceRequest;
  /** Override the model's indexer top-k (0 = dense attention). */
  index_top_k?: number;
  top_k?: number;
  min_p?: number;
  repetition_penalty?: number;
}

export interface ChatCompletionCreateParams extends CompletionOptions {
  messages: ChatMessageParam[];
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  max_completion_tokens?: number | null;
}

export interface CompletionCreateParams extends CompletionOptions {
  prompt: string;
  /** Text completions: how many alternatives per token (0–20); presence asks for logprobs. */
  logprobs?: number | null;
  echo?: boolean | null;
}

export type FinishReason = 'stop' | 'length';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}

export interface ChatTokenLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}

/** Speed figures and traces of one reply (SparseScope's extension; absent from other servers). */
export interface SparseScopeResponseExtension {
  tokens_per_second?: number;
  time_to_first_token_ms?: number;
  /** One trace per generated token, when the request asked for traces. */
  traces?: TokenTrace[];
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: {
    index: number;
    message: { role: 'assistant'; content: string; refusal: null };
    finish_reason: FinishReason;
    logprobs: { content: ChatTokenLogprob[] } | null;
  }[];
  usage: Usage;
  sparsescope?: SparseScopeResponseExtension;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: {
    index: number;
    delta: { role?: 'assistant'; content?: string };
    finish_reason: FinishReason | null;
    logprobs?: { content: ChatTokenLogprob[] } | null;
  }[];
  /** Only on the last chunk, and only with stream_options.include_usage (choices is then empty). */
  usage?: Usage | null;
  /** A token's trace (when asked), or the reply's speed figures on the final chunk. */
  sparsescope?: SparseScopeResponseExtension & { trace?: TokenTrace };
}

export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: number[];
  top_logprobs: Record<string, number>[];
  text_offset: number[];
}

export interface Completion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: { index: number; text: string; finish_reason: FinishReason | null; logprobs: CompletionLogprobs | null }[];
  usage?: Usage | null;
  sparsescope?: SparseScopeResponseExtension & { trace?: TokenTrace };
}

export interface Model {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

export interface ModelList {
  object: 'list';
  data: Model[];
}

/** The API's error body: `{ error: { message, type, param, code } }`. */
export interface ApiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}
