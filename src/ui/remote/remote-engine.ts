/**
 * An OpenAI-compatible server (sparsescope serve, SGLang, vLLM, llama.cpp's server, DeepSeek's API) as
 * the page's engine: the same EngineApi generate/abort surface as the local engine, so the chat code
 * does not fork. A reply streams over SSE (POST {base}/chat/completions, stream: true); each content
 * delta becomes a token event; stop aborts the fetch. Traces, classroom steps and profiles need the
 * weights in this page, so they are refused with 'not-implemented'.
 */
import { SparseScopeError } from '../../errors.ts';
import type { GpuInfo } from '../../gpu/device.ts';
import type { ChatCompletionChunk, ModelList } from '../../api/openai-types.ts';
import type { EngineApi, GenerateEvent, GenerateRequest, LoadEvent, ModelSource, ModelSummary, SelfTestResult, TokenTrace } from '../../api/protocol.ts';
import { sseData } from './sse.ts';

export interface RemoteEndpoint {
  /** e.g. http://127.0.0.1:8080/v1 */
  baseUrl: string;
  apiKey?: string;
  model: string;
}

export const NEEDS_LOCAL_WEIGHTS = 'This view reads the model’s internals, which needs its weights in this page: load a local model to use it.';

const REMOTE_INFO: GpuInfo = {
  vendor: 'remote',
  architecture: '',
  device: '',
  description: 'OpenAI-compatible server',
  name: 'remote endpoint',
  features: [],
  limits: {},
  hasF16: false,
  hasSubgroups: false,
  hasTimestamps: false,
};

export class RemoteEngine implements EngineApi {
  private running: AbortController | undefined;

  constructor(readonly endpoint: RemoteEndpoint) {}

  private url(path: string): string {
    return this.endpoint.baseUrl.replace(/\/+$/, '') + path;
  }

  private headers(json: boolean): Record<string, string> {
    return { ...(json ? { 'content-type': 'application/json' } : {}), ...(this.endpoint.apiKey ? { authorization: `Bearer ${this.endpoint.apiKey}` } : {}) };
  }

  private async fetchOk(path: string, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(this.url(path), init);
    } catch (e) {
      if (init.signal?.aborted) throw new SparseScopeError('aborted', 'the request was cancelled');
      throw new SparseScopeError(
        'network',
        `could not reach ${this.url(path)} (${e instanceof Error ? e.message : String(e)}): is the server running, and does it allow this page's origin (CORS)?`,
      );
    }
    if (!res.ok) {
      const body = await res.text().catch(() => '');
      let message = body.slice(0, 500);
      try {
        message = (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? message;
      } catch {
        // not JSON: the body as it is
      }
      throw new SparseScopeError(res.status === 400 || res.status === 404 ? 'bad-argument' : 'network', `${this.url(path)} answered ${res.status}: ${message}`);
    }
    return res;
  }

  async init(): Promise<GpuInfo> {
    return REMOTE_INFO;
  }

  async selfTest(): Promise<SelfTestResult> {
    return { kernel: 'none (remote)', shape: [0, 0], maxAbsError: 0, ok: true };
  }

  /** The model ids the server lists (GET {base}/models). */
  async listModels(): Promise<string[]> {
    const res = await this.fetchOk('/models', { headers: this.headers(false) });
    return ((await res.json()) as ModelList).data.map((m) => m.id);
  }

  /** "Loading" a remote model checks that the server answers and lists it (the source is the endpoint's base URL; anything else is a local model, refused while remote). */
  async load(source: ModelSource, onEvent: (e: LoadEvent) => void): Promise<ModelSummary> {
    if (source.kind !== 'url' || source.url !== this.endpoint.baseUrl) {
      throw new SparseScopeError('bad-argument', 'The chat is connected to a remote endpoint: click "Use the local model" first, then load a model.');
    }
    const ids = await this.listModels();
    if (!ids.includes(this.endpoint.model))
      throw new SparseScopeError('bad-argument', `the server does not list the model "${this.endpoint.model}"; it has: ${ids.join(', ') || 'none'}`);
    const summary: ModelSummary = { name: this.endpoint.model, arch: 'remote', fileBytes: 0, layers: 0, contextLength: 0, vocabSize: 0, backend: 'remote' };
    onEvent({ kind: 'ready', model: summary });
    return summary;
  }

  async generate(request: GenerateRequest, onEvent: (e: GenerateEvent) => void): Promise<void> {
    const cancel = new AbortController();
    this.running = cancel;
    const t0 = performance.now();
    const s = request.sampling;
    const body = {
      model: this.endpoint.model,
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: request.maxTokens,
      temperature: s.temperature,
      top_p: s.topP,
      seed: s.seed,
      ...(request.messages ? { messages: request.messages } : { messages: [{ role: 'user', content: request.prompt ?? '' }] }),
    };
    let n = 0;
    let firstAt = 0;
    let lastAt = 0;
    let reason: 'eos' | 'max-tokens' | 'aborted' = 'eos';
    let completionTokens: number | undefined;
    try {
      const res = await this.fetchOk('/chat/completions', { method: 'POST', headers: this.headers(true), body: JSON.stringify(body), signal: cancel.signal });
      onEvent({ kind: 'prefill', promptTokens: 0, ms: performance.now() - t0 });
      for await (const data of sseData(res.body!)) {
        if (data === '[DONE]') break;
        const chunk = JSON.parse(data) as ChatCompletionChunk & { error?: { message: string } };
        if (chunk.error) throw new SparseScopeError('network', `the server stopped the reply: ${chunk.error.message}`);
        if (chunk.usage) completionTokens = chunk.usage.completion_tokens;
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        const text = choice.delta?.content ?? '';
        if (text) {
          lastAt = performance.now();
          if (n === 0) firstAt = lastAt;
          onEvent({ kind: 'token', id: -1, text, index: n++ });
        }
        if (choice.finish_reason) reason = choice.finish_reason === 'length' ? 'max-tokens' : 'eos';
      }
    } catch (e) {
      if (!cancel.signal.aborted) throw e;
      reason = 'aborted';
    } finally {
      if (this.running === cancel) this.running = undefined;
    }
    // A content delta may hold several tokens: the server's count (usage) is the one to report when it sends one.
    const tokens = completionTokens ?? n;
    const seconds = (lastAt - firstAt) / 1000;
    onEvent({
      kind: 'done',
      reason,
      tokens,
      tokensPerSecond: n > 1 && seconds > 0 ? (tokens * (n - 1)) / n / seconds : 0,
      timeToFirstTokenMs: (firstAt || performance.now()) - t0,
    });
  }

  async abort(): Promise<void> {
    this.running?.abort();
  }

  async trace(): Promise<TokenTrace[]> {
    throw new SparseScopeError('not-implemented', NEEDS_LOCAL_WEIGHTS);
  }

  async restart(): Promise<GpuInfo> {
    return REMOTE_INFO;
  }

  /** The page's engine handle also has these (src/worker/client.ts); a server has no device to lose. */

  terminate(): void {
    this.running?.abort();
  }
}
