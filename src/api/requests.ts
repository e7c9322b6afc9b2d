/**
 * OpenAI request bodies → the engine protocol's GenerateRequest, with the API's defaults (temperature
 * 1, top-p 1, no top-k / min-p / penalty) and a typed 'bad-argument' for anything malformed, so the
 * server can answer 400 with the message as it stands.
 */
import { SparseScopeError } from '../errors.ts';
import type { GenerateRequest } from './protocol.ts';
import type { ChatCompletionCreateParams, ChatMessageParam, CompletionCreateParams, CompletionOptions } from './openai-types.ts';

/** max_tokens when a request gives none. */
export const DEFAULT_MAX_TOKENS = 256;
const MAX_STOPS = 4;

const bad = (message: string) => new SparseScopeError('bad-argument', message);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function optionalNumber(o: Record<string, unknown>, key: string, check: (v: number) => boolean, range: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) throw bad(`"${key}" must be ${range}, got ${JSON.stringify(v)}`);
  return v;
}

export interface ParsedRequest {
  generate: GenerateRequest;
  stops: string[];
  stream: boolean;
  includeUsage: boolean;
  model?: string;
}

function parseOptions(
  body: Record<string, unknown>,
  maxTokensKeys: string[],
): Omit<ParsedRequest, 'generate'> & { generate: Omit<GenerateRequest, 'prompt' | 'messages'> } {
  const n = optionalNumber(body, 'n', (v) => v === 1, '1 (one choice per request)');
  void n;
  let maxTokens: number | undefined;
  for (const k of maxTokensKeys) maxTokens ??= optionalNumber(body, k, (v) => Number.isInteger(v) && v >= 1, 'an integer ≥ 1');
  const temperature = optionalNumber(body, 'temperature', (v) => v >= 0 && v <= 2, 'a number in [0, 2]') ?? 1;
  const topP = optionalNumber(body, 'top_p', (v) => v > 0 && v <= 1, 'a number in (0, 1]') ?? 1;
  const seed = optionalNumber(body, 'seed', Number.isInteger, 'an integer') ?? Math.floor(Math.random() * 2 ** 32);
  const stopValue = body.stop;
  let stops: string[] = [];
  if (typeof stopValue === 'string') stops = [stopValue];
  else if (Array.isArray(stopValue) && stopValue.every((s) => typeof s === 'string')) stops = stopValue as string[];
  else if (stopValue !== undefined && stopValue !== null) throw bad('"stop" must be a string or an array of strings');
  stops = stops.filter((s) => s.length > 0);
  if (stops.length > MAX_STOPS) throw bad(`"stop" takes at most ${MAX_STOPS} sequences, got ${stops.length}`);
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw bad('"stream" must be a boolean');
  if (body.model !== undefined && body.model !== null && typeof body.model !== 'string') throw bad('"model" must be a string');
  const ext = body.sparsescope;
  if (ext !== undefined && !isObject(ext)) throw bad('"sparsescope" must be an object');
  const x = (ext ?? {}) as Record<string, unknown>;
  const trace = x.trace;
  if (trace !== undefined && !isObject(trace)) throw bad('"sparsescope.trace" must be an object like {"indexer": true, "dense": true, "router": true}');
  const streamOptions = body.stream_options;
  return {
    stops,
    stream: body.stream === true,
    includeUsage: isObject(streamOptions) && streamOptions.include_usage === true,
    model: typeof body.model === 'string' ? body.model : undefined,
    generate: {
      maxTokens: maxTokens ?? DEFAULT_MAX_TOKENS,
      sampling: {
        temperature,
        topP,
        topK: optionalNumber(x, 'top_k', (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0') ?? 0,
        minP: optionalNumber(x, 'min_p', (v) => v >= 0 && v < 1, 'a number in [0, 1)') ?? 0,
        repetitionPenalty: optionalNumber(x, 'repetition_penalty', (v) => v > 0, 'a number > 0') ?? 1,
        seed: seed >>> 0,
      },
      indexTopK: optionalNumber(x, 'index_top_k', (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0'),
      trace: trace as GenerateRequest['trace'],
    },
  };
}

function messageText(m: ChatMessageParam, i: number): string {
  if (typeof m.content === 'string') return m.content;
  if (Array.isArray(m.content)) {
    return m.content
      .map((p, j) => {
        if (!isObject(p) || p.type !== 'text' || typeof p.text !== 'string')
          throw bad(`messages[${i}].content[${j}] must be a text part ({"type": "text", "text": ...}); this model reads text only`);
        return p.text;
      })
      .join('');
  }
  throw bad(`messages[${i}].content must be a string or an array of text parts`);
}

export function parseChatRequest(body: unknown): ParsedRequest {
  if (!isObject(body)) throw bad('the request body must be a JSON object');
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw bad('"messages" must be a non-empty array');
  const parsed = parseOptions(body, ['max_completion_tokens', 'max_tokens']);
  const msgs = messages.map((m, i) => {
    if (!isObject(m)) throw bad(`messages[${i}] must be an object`);
    const role = m.role;
    if (role !== 'system' && role !== 'developer' && role !== 'user' && role !== 'assistant')
      throw bad(`messages[${i}].role must be system, developer, user or assistant, got ${JSON.stringify(role)}`);
    // The model's chat templates know system/user/assistant; a developer message is OpenAI's newer system.
    const mapped: 'system' | 'user' | 'assistant' = role === 'developer' ? 'system' : role;
    return { role: mapped, content: messageText(m as unknown as ChatMessageParam, i) };
  });
  const p = body as unknown as ChatCompletionCreateParams;
  if (p.logprobs !== undefined && p.logprobs !== null && typeof p.logprobs !== 'boolean') throw bad('"logprobs" must be a boolean');
  const top = optionalNumber(body, 'top_logprobs', (v) => Number.isInteger(v) && v >= 0 && v <= 20, 'an integer in [0, 20]');
  if (top !== undefined && p.logprobs !== true) throw bad('"top_logprobs" needs "logprobs": true');
  return { ...parsed, generate: { ...parsed.generate, messages: msgs, ...(p.logprobs ? { logprobs: top ?? 0 } : {}) } };
}

export function parseCompletionRequest(body: unknown): ParsedRequest {
  if (!isObject(body)) throw bad('the request body must be a JSON object');
  const prompt = body.prompt;
  let text: string;
  if (typeof prompt === 'string') text = prompt;
  else if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') text = prompt[0];
  else throw bad('"prompt" must be a string (one prompt per request)');
  if (body.echo === true) throw bad('"echo" is not supported');
  const parsed = parseOptions(body, ['max_tokens']);
  const logprobs = optionalNumber(body, 'logprobs', (v) => Number.isInteger(v) && v >= 0 && v <= 20, 'an integer in [0, 20]');
  return { ...parsed, generate: { ...parsed.generate, prompt: text, ...(logprobs !== undefined ? { logprobs } : {}) } };
}

export type { ChatCompletionCreateParams, CompletionCreateParams, CompletionOptions };
