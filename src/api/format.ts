/**
 * ReplyPieces → the OpenAI API's objects: chat.completion and its chunks, text_completion (whole and
 * streamed). One id and `created` per reply, shared by all its chunks, as the API does.
 */
import type { TokenTrace } from './protocol.ts';
import type { ChatCompletion, ChatCompletionChunk, ChatTokenLogprob, Completion, CompletionLogprobs, FinishReason, Usage } from './openai-types.ts';
import type { ReplyPiece } from './reply-stream.ts';

export const SYSTEM_FINGERPRINT = 'sparsescope';

const utf8 = new TextEncoder();

export interface ReplyIdentity {
  id: string;
  created: number;
  model: string;
}

export function replyIdentity(prefix: 'chatcmpl' | 'cmpl', model: string): ReplyIdentity {
  const rand = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
  return { id: `${prefix}-${rand}`, created: Math.floor(Date.now() / 1000), model };
}

type TextPiece = Extract<ReplyPiece, { kind: 'text' }>;
type DonePiece = Extract<ReplyPiece, { kind: 'done' }>;

export function chatLogprob(p: TextPiece): ChatTokenLogprob | undefined {
  if (!p.logprob) return undefined;
  return {
    token: p.logprob.text,
    logprob: p.logprob.logprob,
    bytes: [...utf8.encode(p.logprob.text)],
    top_logprobs: p.logprob.top.map((t) => ({ token: t.text, logprob: t.logprob, bytes: [...utf8.encode(t.text)] })),
  };
}

export function usageOf(d: DonePiece): Usage {
  return { prompt_tokens: d.promptTokens, completion_tokens: d.completionTokens, total_tokens: d.promptTokens + d.completionTokens };
}

const speed = (d: DonePiece) => ({ tokens_per_second: d.tokensPerSecond, time_to_first_token_ms: d.timeToFirstTokenMs });

/** Collects a whole reply (non-streaming). */
export class ReplyCollector {
  text = '';
  readonly logprobs: TextPiece[] = [];
  readonly traces: TokenTrace[] = [];
  done: DonePiece | undefined;

  add(p: ReplyPiece): void {
    if (p.kind === 'text') {
      this.text += p.text;
      if (p.logprob) this.logprobs.push(p);
      if (p.trace) this.traces.push(p.trace);
    } else if (p.kind === 'done') this.done = p;
  }

  private get final(): DonePiece {
    return this.done ?? { kind: 'done', finishReason: 'stop', promptTokens: 0, completionTokens: 0, tokensPerSecond: 0, timeToFirstTokenMs: 0 };
  }

  chatCompletion(who: ReplyIdentity, wantLogprobs: boolean): ChatCompletion {
    const d = this.final;
    return {
      id: who.id,
      object: 'chat.completion',
      created: who.created,
      model: who.model,
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: this.text, refusal: null },
          finish_reason: d.finishReason,
          logprobs: wantLogprobs ? { content: this.logprobs.map((p) => chatLogprob(p)!) } : null,
        },
      ],
      usage: usageOf(d),
      sparsescope: { ...speed(d), ...(this.traces.length ? { traces: this.traces } : {}) },
    };
  }

  completion(who: ReplyIdentity, wantLogprobs: boolean): Completion {
    const d = this.final;
    return {
      id: who.id,
      object: 'text_completion',
      created: who.created,
      model: who.model,
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices: [{ index: 0, text: this.text, finish_reason: d.finishReason, logprobs: wantLogprobs ? completionLogprobs(this.logprobs) : null }],
      usage: usageOf(d),
      sparsescope: { ...speed(d), ...(this.traces.length ? { traces: this.traces } : {}) },
    };
  }
}

function completionLogprobs(pieces: TextPiece[], offset0 = 0): CompletionLogprobs {
  let offset = offset0;
  const out: CompletionLogprobs = { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
  for (const p of pieces) {
    const lp = p.logprob!;
    out.tokens.push(lp.text);
    out.token_logprobs.push(lp.logprob);
    out.top_logprobs.push(Object.fromEntries(lp.top.map((t) => [t.text, t.logprob])));
    out.text_offset.push(offset);
    offset += lp.text.length;
  }
  return out;
}

/** Streamed chat: a role chunk first, a content chunk per token with text (or logprobs / trace), the finish chunk, then usage when asked. */
export function* chatChunks(who: ReplyIdentity, p: ReplyPiece, includeUsage: boolean): Generator<ChatCompletionChunk> {
  const base = { id: who.id, object: 'chat.completion.chunk' as const, created: who.created, model: who.model, system_fingerprint: SYSTEM_FINGERPRINT };
  if (p.kind === 'prefill') {
    yield { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null, logprobs: null }] };
  } else if (p.kind === 'text') {
    const lp = chatLogprob(p);
    if (!p.text && !lp && !p.trace) return;
    yield {
      ...base,
      choices: [{ index: 0, delta: { content: p.text }, finish_reason: null, logprobs: lp ? { content: [lp] } : null }],
      ...(p.trace ? { sparsescope: { trace: p.trace } } : {}),
    };
  } else {
    yield { ...base, choices: [{ index: 0, delta: {}, finish_reason: p.finishReason, logprobs: null }], sparsescope: speed(p) };
    if (includeUsage) yield { ...base, choices: [], usage: usageOf(p) };
  }
}

/** Streamed text completion: one chunk per token with text, the finish chunk, then usage when asked. */
export function* completionChunks(who: ReplyIdentity, p: ReplyPiece, includeUsage: boolean): Generator<Completion> {
  const base = { id: who.id, object: 'text_completion' as const, created: who.created, model: who.model, system_fingerprint: SYSTEM_FINGERPRINT };
  if (p.kind === 'text') {
    if (!p.text && !p.logprob && !p.trace) return;
    yield {
      ...base,
      choices: [{ index: 0, text: p.text, finish_reason: null, logprobs: p.logprob ? completionLogprobs([p]) : null }],
      ...(p.trace ? { sparsescope: { trace: p.trace } } : {}),
    };
  } else if (p.kind === 'done') {
    const finish: FinishReason = p.finishReason;
    yield { ...base, choices: [{ index: 0, text: '', finish_reason: finish, logprobs: null }], sparsescope: speed(p) };
    if (includeUsage) yield { ...base, choices: [], usage: usageOf(p) };
  }
}
