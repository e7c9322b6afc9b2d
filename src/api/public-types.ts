/** The types both entries (node.ts, browser.ts) export: the OpenAI objects and the engine protocol. */
export type * from './openai-types.ts';
export type { LoadSource } from './load-source.ts';
export type { LoadOptions, RequestOptions } from './engine.ts';
export type {
  EngineApi,
  ModelSource,
  ModelSummary,
  LoadEvent,
  GenerateRequest,
  GenerateEvent,
  TokenTrace,
  LayerTrace,
  TraceRequest,
  TokenLogprob,
} from './protocol.ts';
export { SparseScopeError, isSparseScopeError, type ErrorCode } from '../errors.ts';
