/**
 * The engine object of the package: OpenAI-style `chat.completions.create`, `completions.create` and
 * `models.list` over any EngineApi (the page's Worker engine, InProcessEngine on WebGPU, CpuEngine).
 * Replies run one at a time in call order; a request's AbortSignal cancels it while queued (it never
 * starts) or while running (the engine stops at the next token boundary).
 */
import { SparseScopeError } from '../errors.ts';
import type { EngineApi, LoadEvent, ModelSummary } from './protocol.ts';
import { toModelSource, type LoadSource } from './load-source.ts';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams, Completion, CompletionCreateParams, ModelList } from './openai-types.ts';
import { parseChatRequest, parseCompletionRequest, type ParsedRequest } from './requests.ts';
import { replyStream, type ReplyPiece } from './reply-stream.ts';
import { chatChunks, completionChunks, ReplyCollector, replyIdentity } from './format.ts';

export interface LoadOptions {
  /** header, progress (bytes of weights so far) and ready events. */
  onProgress?: (e: LoadEvent) => void;
  /** Stops waiting for the load (it rejects with 'aborted'); a load already reading weights finishes in the background and is dropped. */
  signal?: AbortSignal;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface EngineHost {
  api: EngineApi;
  /** The bundled model's source on this host. */
  bundled: () => LoadSource;
  /** Whether a string source may be a local path (Node). */
  paths: boolean;
}

export class SparseScopeEngine {
  private summary: ModelSummary | undefined;
  private turn: Promise<unknown> = Promise.resolve();
  private initialised: Promise<unknown> | undefined;

  constructor(private readonly host: EngineHost) {}

  /** The EngineApi underneath (the page's protocol: traces, classroom steps, profiles). */
  get api(): EngineApi {
    return this.host.api;
  }

  /** The loaded model, or undefined before load(). */
  get model(): ModelSummary | undefined {
    return this.summary;
  }

  async load(source?: LoadSource, o: LoadOptions = {}): Promise<ModelSummary> {
    if (o.signal?.aborted) throw new SparseScopeError('aborted', 'the model load was cancelled');
    this.initialised ??= this.host.api.init();
    await this.initialised;
    const loading = this.host.api.load(toModelSource(source ?? this.host.bundled(), this.host.paths), (e) => o.onProgress?.(e));
    const summary = o.signal ? await raceAbort(loading, o.signal) : await loading;
    this.summary = summary;
    return summary;
  }

  /** The model id replies carry and /v1/models lists: the loaded model's name as a slug ("sparsescope-kjv-5m"). */
  get modelId(): string {
    const slug = (this.summary?.name ?? '')
      .toLowerCase()
      .replace(/[^a-z0-9._]+/g, '-')
      .replace(/^-+|-+$/g, '');
    return slug || 'sparsescope';
  }

  readonly models = {
    list: async (): Promise<ModelList> => ({
      object: 'list',
      data: this.summary ? [{ id: this.modelId, object: 'model', created: 0, owned_by: 'sparsescope' }] : [],
    }),
  };

  readonly chat = {
    completions: {
      create: (async (params: ChatCompletionCreateParams, o: RequestOptions = {}) => this.create(parseChatRequest(params), 'chat', o)) as {
        (params: ChatCompletionCreateParams & { stream: true }, o?: RequestOptions): Promise<AsyncIterable<ChatCompletionChunk>>;
        (params: ChatCompletionCreateParams & { stream?: false | null }, o?: RequestOptions): Promise<ChatCompletion>;
        (params: ChatCompletionCreateParams, o?: RequestOptions): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>>;
      },
    },
  };

  readonly completions = {
    create: (async (params: CompletionCreateParams, o: RequestOptions = {}) => this.create(parseCompletionRequest(params), 'text', o)) as {
      (params: CompletionCreateParams & { stream: true }, o?: RequestOptions): Promise<AsyncIterable<Completion>>;
      (params: CompletionCreateParams & { stream?: false | null }, o?: RequestOptions): Promise<Completion>;
      (params: CompletionCreateParams, o?: RequestOptions): Promise<Completion | AsyncIterable<Completion>>;
    },
  };

  /** Stops the reply that is running now (at the next token boundary). */
  async interrupt(): Promise<void> {
    await this.host.api.abort();
  }

  private async create(
    req: ParsedRequest,
    kind: 'chat' | 'text',
    o: RequestOptions,
  ): Promise<ChatCompletion | Completion | AsyncIterable<ChatCompletionChunk | Completion>> {
    if (!this.summary) throw new SparseScopeError('bad-argument', 'No model is loaded yet: call engine.load() first.');
    const who = replyIdentity(kind === 'chat' ? 'chatcmpl' : 'cmpl', this.modelId);
    const wantLogprobs = req.generate.logprobs !== undefined;
    const pieces = this.queued(req, o.signal);
    if (!req.stream) {
      const c = new ReplyCollector();
      for await (const p of pieces) c.add(p);
      return kind === 'chat' ? c.chatCompletion(who, wantLogprobs) : c.completion(who, wantLogprobs);
    }
    const chunks = kind === 'chat' ? chatChunks : completionChunks;
    return (async function* () {
      for await (const p of pieces) yield* chunks(who, p, req.includeUsage);
    })();
  }

  /** The reply's pieces once every earlier reply has finished; the turn is released when the stream ends. */
  private async *queued(req: ParsedRequest, signal?: AbortSignal): AsyncGenerator<ReplyPiece> {
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const before = this.turn;
    this.turn = before.then(() => mine);
    try {
      await (signal ? raceAbort(before, signal) : before);
      yield* replyStream(this.host.api, req.generate, req.stops, signal);
    } finally {
      release();
    }
  }
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new SparseScopeError('aborted', 'the request was cancelled'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
