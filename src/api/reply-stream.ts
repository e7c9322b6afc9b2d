/**
 * One reply from an EngineApi as an async stream of text pieces: the engine's callback events become
 * pulls, `stop` sequences are applied (StopScanner; the engine is aborted at the next token boundary),
 * and an AbortSignal, or the consumer leaving the loop early, aborts the engine too. The stream ends
 * with one `done` piece carrying the OpenAI finish_reason and the counts for `usage`.
 */
import { SparseScopeError } from '../errors.ts';
import type { EngineApi, GenerateEvent, GenerateRequest, TokenLogprob, TokenTrace } from './protocol.ts';
import type { FinishReason } from './openai-types.ts';
import { StopScanner } from './stop-scanner.ts';

export type ReplyPiece =
  | { kind: 'prefill'; promptTokens: number }
  /** text may be '' (a token whose bytes are held back, or stop text); logprob/trace belong to this token. */
  | { kind: 'text'; text: string; logprob?: TokenLogprob & { text: string }; trace?: TokenTrace }
  | { kind: 'done'; finishReason: FinishReason; promptTokens: number; completionTokens: number; tokensPerSecond: number; timeToFirstTokenMs: number };

export async function* replyStream(api: EngineApi, request: GenerateRequest, stops: readonly string[], signal?: AbortSignal): AsyncGenerator<ReplyPiece> {
  if (signal?.aborted) throw abortedError();
  const queue: GenerateEvent[] = [];
  let wake: (() => void) | undefined;
  let failure: { error: unknown } | undefined;
  let finished = false;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  let abortSent = false;
  const abortEngine = () => {
    if (abortSent) return;
    abortSent = true;
    void api.abort();
  };
  const onAbort = () => {
    abortEngine();
    notify();
  };
  signal?.addEventListener('abort', onAbort);
  const running = api
    .generate(request, (e) => {
      queue.push(e);
      notify();
    })
    .then(
      () => (finished = true),
      (error: unknown) => (failure = { error }),
    )
    .finally(notify);
  const scanner = new StopScanner(stops);
  let promptTokens = 0;
  let done = false;
  try {
    while (true) {
      const e = queue.shift();
      if (!e) {
        if (failure) throw failure.error;
        if (finished || done) break;
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      if (done) continue;
      if (e.kind === 'prefill') {
        promptTokens = e.promptTokens;
        yield { kind: 'prefill', promptTokens };
      } else if (e.kind === 'token') {
        if (scanner.stopped) continue;
        const text = scanner.push(e.text);
        if (scanner.stopped) abortEngine();
        yield { kind: 'text', text, ...(e.logprob ? { logprob: { ...e.logprob, text: e.text } } : {}), ...(e.trace ? { trace: e.trace } : {}) };
      } else {
        done = true;
        if (signal?.aborted) throw abortedError();
        const tail = scanner.flush();
        if (tail) yield { kind: 'text', text: tail };
        yield {
          kind: 'done',
          finishReason: scanner.stopped || e.reason === 'eos' || e.reason === 'aborted' ? 'stop' : 'length',
          promptTokens,
          completionTokens: e.tokens,
          tokensPerSecond: e.tokensPerSecond,
          timeToFirstTokenMs: e.timeToFirstTokenMs,
        };
      }
    }
    if (signal?.aborted) throw abortedError();
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // Left early (break, an error, an abort): stop the engine and wait for it, so the next reply starts clean.
    if (!done) abortEngine();
    await running;
  }
}

function abortedError(): SparseScopeError {
  return new SparseScopeError('aborted', 'the request was cancelled');
}
