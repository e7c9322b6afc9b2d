/**
 * TEST DOUBLE, selected only by the URL flag `?engine=fake`. It implements EngineApi with the toy model in
 * ./fake-model.ts so the chat, the views and the classroom can be built and e2e-tested before the real
 * model engine lands. The GPU itself stays real: init, selfTest, restart and device loss go to the real
 * Worker engine, so the adapter panel and the device-lost path behave exactly as in production.
 * `?fakeDelay=MS` sets the time per generated token (default 40 ms, so "stop" can be tested).
 * A scripted reply: a user message `/say TEXT` makes the double reply exactly TEXT (in at most
 * SCRIPT_TOKENS pieces), so tests can make "the model" emit anything, hostile markdown included. In TEXT,
 * `⟪N×PIECE⟫` stands for PIECE N times with each `#` replaced by the repetition's index (a table of
 * thousands of rows is typed in a line: the composer takes seconds per 10 kB).
 */
import { SparseScopeError } from '../../errors.ts';
import type { WorkerEngine } from '../../worker/client.ts';
import { TEST_BUILD } from '../../worker/test-build.ts';
import type {
  GenerateEvent,
  GenerateRequest,
  LoadEvent,
  ModelSource,
  ModelSummary,
  StepRequest,
  StepResult,
  TokenText,
  TokenTrace,
  TraceRequest,
} from '../../api/protocol.ts';
import { candidates, EOS, FAKE_SHAPE, hash, kl, mulberry32, nextDistribution, sample, tokenize, traceRow, VOCAB } from './fake-model.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const SAY = '/say ';
const SCRIPT_TOKENS = 20;

/** The reply a `/say TEXT` message scripts, cut into at most SCRIPT_TOKENS pieces; [] for any other message. */
function scriptedReply(req: GenerateRequest): string[] {
  const last = req.messages?.at(-1);
  if (last?.role !== 'user' || !last.content.startsWith(SAY)) return [];
  const text = last.content
    .slice(SAY.length)
    .replace(/⟪(\d+)×([^⟫]*)⟫/g, (_, n: string, piece: string) =>
      Array.from({ length: Math.min(Number(n), 100_000) }, (_, i) => piece.replaceAll('#', String(i))).join(''),
    );
  const size = Math.max(1, Math.ceil(text.length / SCRIPT_TOKENS));
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

export class FakeEngine implements WorkerEngine {
  private model: ModelSummary | undefined;
  private aborted = false;
  private lost = false;
  private readonly delay: number;

  constructor(private readonly gpu: WorkerEngine) {
    this.delay = Number(new URLSearchParams(location.search).get('fakeDelay') ?? 40);
    // Test builds only (src/worker/test-build.ts): the production bundle has no device-loss trigger.
    if (TEST_BUILD) this.simulateDeviceLoss = () => this.gpu.simulateDeviceLoss!();
  }

  init: WorkerEngine['init'] = (onStatus, options) =>
    this.gpu.init((e) => {
      if (e.kind === 'device-lost') this.lost = true;
      onStatus?.(e);
    }, options);
  selfTest = () => this.gpu.selfTest();
  restart = async () => {
    const info = await this.gpu.restart();
    this.lost = false;
    return info;
  };
  declare simulateDeviceLoss?: () => Promise<void>;
  terminate = () => this.gpu.terminate();

  // As the real engine: the loaded model stays until a new one has loaded, so a bad file leaves it working.
  async load(source: ModelSource, onEvent: (e: LoadEvent) => void): Promise<ModelSummary> {
    let name = 'fake-dsa-4L (test double)';
    let fileBytes = 18_874_368;
    if (source.kind === 'blob') {
      name = source.name;
      fileBytes = source.blob.size;
      const head = new Uint8Array(await source.blob.slice(0, 8).arrayBuffer());
      if (String.fromCharCode(...head.slice(0, 4)) !== 'GGUF') {
        throw new SparseScopeError('not-gguf', `${name} is not a GGUF file: it does not start with the bytes "GGUF".`);
      }
      if (fileBytes < 64) throw new SparseScopeError('truncated', `${name} is truncated: it ends after ${fileBytes} bytes, inside the GGUF header.`);
    } else if (source.kind === 'path') {
      throw new SparseScopeError('bad-argument', 'Paths can only be loaded in Node.');
    }
    onEvent({
      kind: 'header',
      arch: 'deepseek32',
      tensorCount: 61,
      fileBytes,
      estimatedGpuBytes: Math.round(fileBytes * 1.05),
      largestTensorBytes: Math.round(fileBytes / 8),
      quantTypes: ['F32'],
      contextLength: FAKE_SHAPE.contextLength,
      shape: FAKE_SHAPE,
    });
    for (let i = 1; i <= 4; i++) {
      await sleep(40);
      if (this.lost) throw new SparseScopeError('device-lost', 'The GPU device was lost while loading.');
      onEvent({ kind: 'progress', loadedBytes: (fileBytes * i) / 4, totalBytes: fileBytes, tensor: `blk.${i - 1}.attn_kv_a_mqa.weight` });
    }
    this.model = {
      name,
      arch: 'deepseek32',
      fileBytes,
      layers: FAKE_SHAPE.layers,
      contextLength: FAKE_SHAPE.contextLength,
      vocabSize: 4096,
      backend: 'webgpu',
      shape: FAKE_SHAPE,
      indexTopK: FAKE_SHAPE.indexerTopK,
      chatFormat: { format: 'deepseek-v3.2', label: 'DeepSeek-V3.2', thinking: true },
    };
    onEvent({ kind: 'ready', model: this.model });
    return this.model;
  }

  private ready(): ModelSummary {
    if (this.lost) throw new SparseScopeError('device-lost', 'The GPU device was lost: restart the engine.');
    if (!this.model) throw new SparseScopeError('bad-argument', 'No model is loaded.');
    return this.model;
  }

  private context(tokens: TokenText[]): void {
    const n = this.ready().contextLength;
    if (tokens.length >= n) throw new SparseScopeError('context-overflow', `The prompt has ${tokens.length} tokens; this model's context holds ${n}.`);
  }

  async generate(req: GenerateRequest, onEvent: (e: GenerateEvent) => void): Promise<void> {
    this.ready();
    this.aborted = false;
    // The fake chat template: DeepSeek's role markers around each message.
    // (in thinking mode the assistant turn opens with <think>, as DeepSeek-V3.1/V3.2's formats do)
    // A scripted message and its reply count as one word each: that text is what the double was told to
    // say, not context it reads (a scripted table of thousands of rows would overflow the toy context).
    const scriptedTurn = (i: number) =>
      req.messages![i]?.content.startsWith(SAY) || (req.messages![i]?.role === 'assistant' && req.messages![i - 1]?.content.startsWith(SAY));
    const rendered = req.messages
      ? req.messages.map((m, i) => `<|${m.role}|> ${scriptedTurn(i) ? SAY.trim() : m.content}`).join(' ') + ' <|assistant|>' + (req.thinking ? '<think>' : '')
      : (req.prompt ?? '');
    const ctx = tokenize(rendered);
    this.context(ctx);
    const t0 = performance.now();
    await sleep(this.delay);
    onEvent({ kind: 'prefill', promptTokens: ctx.length, ms: performance.now() - t0, tokens: [...ctx] });
    const rand = mulberry32(hash(req.sampling.seed, rendered));
    const s = req.sampling;
    let firstMs = 0;
    let n = 0;
    let reason: 'eos' | 'max-tokens' | 'aborted' = 'max-tokens';
    // A marker prompt makes the double emit raw HTML, so tests can prove the page never renders it.
    const script = scriptedReply(req);
    const scripted = script.length > 0;
    const forced = scripted ? script : rendered.includes('<html-test>') ? [' <img src=x onerror="window.__xss=1"><b>raw</b>'] : [];
    // Another makes it reason first, as DeepSeek's thinking models do, with the tags cut across tokens
    // (in thinking mode the prompt already opened <think>, so the reply only closes it).
    const reasoning = rendered.includes('<think-test>')
      ? [...(req.thinking ? [] : ['<th', 'ink>']), 'Two', ' and two', ' make four.', '</th', 'ink>', 'It is', ' 4.']
      : [];
    while (n < req.maxTokens) {
      await sleep(this.delay);
      if (this.lost) throw new SparseScopeError('device-lost', 'GPU device lost during generation: restart the engine.');
      if (this.aborted) {
        reason = 'aborted';
        break;
      }
      let tok: TokenText;
      if (reasoning.length) tok = { id: 1, text: reasoning.shift()! };
      else if (forced.length) tok = { id: 1, text: forced.shift()! };
      else if (scripted) {
        reason = 'eos'; // the scripted reply is all said
        break;
      } else {
        const id = sample(nextDistribution(ctx, req.indexTopK ?? FAKE_SHAPE.indexerTopK!), s.temperature, s.topK, s.topP, rand);
        if (id === EOS && n >= 24) {
          reason = 'eos';
          break;
        }
        tok = { id: id === EOS ? 0 : id, text: ' ' + VOCAB[id === EOS ? 0 : id] };
      }
      ctx.push(tok);
      if (n === 0) firstMs = performance.now() - t0;
      const trace = req.trace ? traceRow(ctx, ctx.length - 1, req.trace, req.indexTopK) : undefined;
      onEvent({ kind: 'token', id: tok.id, text: tok.text, index: n++, trace });
      if (ctx.length >= FAKE_SHAPE.contextLength) break;
    }
    const secs = (performance.now() - t0 - firstMs) / 1000;
    onEvent({ kind: 'done', reason, tokens: n, tokensPerSecond: n > 1 ? (n - 1) / secs : 0, timeToFirstTokenMs: firstMs });
  }

  async abort(): Promise<void> {
    this.aborted = true;
  }

  async trace(prompt: string, request: TraceRequest, indexTopK?: number): Promise<TokenTrace[]> {
    this.ready();
    const tokens = tokenize(prompt);
    this.context(tokens);
    return tokens.map((_, t) => traceRow(tokens, t, request, indexTopK));
  }

  async step(req: StepRequest): Promise<StepResult> {
    this.ready();
    const tokens = [...tokenize(req.prompt), ...(req.appended ?? []).map((id) => ({ id, text: ' ' + (VOCAB[id] ?? '?') }))];
    this.context(tokens);
    const sparse = nextDistribution(tokens, req.indexTopK);
    const dense = nextDistribution(tokens, 0);
    const n = req.candidates ?? 5;
    const c = candidates(sparse, n);
    const d = candidates(dense, n);
    return {
      position: tokens.length,
      candidates: c,
      denseCandidates: d,
      klToDense: kl(dense, sparse),
      top1Agrees: c[0].id === d[0].id,
      trace: req.trace ? traceRow(tokens, tokens.length - 1, req.trace, req.indexTopK) : undefined,
    };
  }
}
