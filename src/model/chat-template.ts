import { isSparseScopeError } from '../errors.ts';
import { detectChatFamily, fallbackFormat, promptOpensThinking, splitReasoning, type ChatFormatName, type FamilyDetection } from './chat-formats/index.ts';
import { renderTemplateBounded } from './template-sandbox.ts';
import type { Tokenizer } from './tokenizer/index.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | (string & {});
  content: string;
}

export interface ChatPromptOptions {
  /** End with the opening of an assistant turn, so the model answers. Default true. */
  addGenerationPrompt?: boolean;
  bosToken?: string;
  eosToken?: string;
  /**
   * Thinking mode, for formats that have one (DeepSeek-V3.1/V3.2, templates reading `thinking` or
   * `enable_thinking`): the assistant turn opens with `<think>`. Default: the format's non-thinking mode.
   */
  thinking?: boolean;
  /** The family's format for a file without a (working) template: chatOptionsFor() detects it. Absent: the generic fallback. */
  family?: FamilyDetection;
}

/** The BOS/EOS texts a template sees, from the file's tokenizer. */
export function specialTokenTexts(tok: Pick<Tokenizer, 'bos' | 'eos' | 'tokenText'>): Pick<ChatPromptOptions, 'bosToken' | 'eosToken'> {
  return { bosToken: tok.bos === null ? undefined : tok.tokenText(tok.bos), eosToken: tok.eos === null ? undefined : tok.tokenText(tok.eos) };
}

/** Whether `text` is a single token of the vocabulary (control and user-defined tokens included). */
function isOneToken(tok: Pick<Tokenizer, 'encode' | 'tokenText'>, text: string): boolean {
  const ids = tok.encode(text, { parseSpecial: true });
  return ids.length === 1 && tok.tokenText(ids[0]) === text;
}

/** The family's signs, from the file's tokenizer and its `general.architecture` / `general.name`. */
export function familyOf(tok: Pick<Tokenizer, 'encode' | 'tokenText' | 'preTokenizer'>, model: { arch?: string; name?: string }): FamilyDetection {
  return detectChatFamily({ arch: model.arch, name: model.name, preTokenizer: tok.preTokenizer, hasToken: (t) => isOneToken(tok, t) });
}

/** Everything renderChatPrompt needs from a loaded file besides its template: BOS/EOS texts and the family. */
export function chatOptionsFor(
  tok: Pick<Tokenizer, 'bos' | 'eos' | 'tokenText' | 'encode' | 'preTokenizer'>,
  model: { arch?: string; name?: string },
): ChatPromptOptions {
  return { ...specialTokenTexts(tok), family: familyOf(tok, model) };
}

export interface ChatPrompt {
  text: string;
  /** Which format rendered it: 'file' (the GGUF's own template), a family's format, or 'fallback'. */
  source: ChatFormatName;
  /** A person's name for the format. */
  label: string;
  /** The prompt ends inside an opened `<think>`: the reply starts with reasoning. */
  thinking: boolean;
  /** Why the file's template was not used and the family is a guess, for the UI to show; absent when neither. */
  warning?: string;
  /** Why this family's format was chosen (absent for the file's template). */
  reason?: string;
  /** The typed error of a template that failed or ran past its bounds (template-sandbox.ts). */
  error?: { code: string; message: string };
}

/** What the page shows about a file's chat format, before any conversation. */
export interface ChatFormatSummary {
  format: ChatFormatName;
  label: string;
  /** The format has a thinking mode (a settings toggle). */
  thinking: boolean;
}

export function describeChatFormat(template: string | undefined, family: FamilyDetection | undefined): ChatFormatSummary {
  if (template) return { format: 'file', label: "the file's chat template", thinking: /thinking/.test(template) };
  const f = (family ?? { format: fallbackFormat }).format;
  return { format: f.name, label: f.label, thinking: f.thinking };
}

/**
 * Render the conversation with the file's `tokenizer.chat_template` (Jinja, as Hugging Face runs it);
 * without one, or when it does not parse or throws, with the format of the vocabulary's family
 * (./chat-formats/, chosen by chatOptionsFor) or, for an unknown family, a plain "User:/Assistant:"
 * fallback with a warning. The text starts with the BOS token's text, so encode it with parseSpecial
 * and without addSpecial.
 *
 * Earlier answers' reasoning (`<think>…</think>`, kept in saved messages) is dropped as the formats
 * require: a template gets the answer as `content` and the reasoning as `reasoning_content`.
 */
export function renderChatPrompt(template: string | undefined, messages: readonly ChatMessage[], options: ChatPromptOptions = {}): ChatPrompt {
  const { addGenerationPrompt = true, bosToken = '', eosToken = '', thinking } = options;
  let failed: { code: string; message: string } | undefined;
  if (template) {
    try {
      // the template is code from the file: run with bounds on steps, time and sizes
      const text = renderTemplateBounded(template, {
        messages: messages.map((m) => {
          if (m.role !== 'assistant') return { role: m.role, content: m.content };
          const { reasoning, answer } = splitReasoning(m.content);
          return reasoning === null ? { role: m.role, content: m.content } : { role: m.role, content: answer, reasoning_content: reasoning };
        }),
        add_generation_prompt: addGenerationPrompt,
        bos_token: bosToken,
        eos_token: eosToken,
        // DeepSeek-V3.1 reads `thinking`, Qwen3 and others `enable_thinking`; unset, each keeps its default
        ...(thinking === undefined ? {} : { thinking, enable_thinking: thinking }),
      });
      return { text, source: 'file', label: "the file's chat template", thinking: promptOpensThinking(text) };
    } catch (e) {
      failed = isSparseScopeError(e) ? { code: e.code, message: e.message } : { code: 'template', message: e instanceof Error ? e.message : String(e) };
    }
  }
  const family = options.family ?? { format: fallbackFormat, reason: 'no vocabulary given', guess: true };
  const f = family.format;
  const text = f.render(messages, { addGenerationPrompt, thinking: thinking ?? false, bosToken });
  const why = failed ? `The model's chat template failed (${failed.message})` : 'The model file has no chat template';
  const warning =
    f.name === 'fallback'
      ? `${why}; using a plain "User:/Assistant:" format.`
      : failed || family.guess
        ? `${why}; using the ${f.label} format (${family.reason}).`
        : undefined;
  return {
    text,
    source: f.name,
    label: f.label,
    thinking: promptOpensThinking(text),
    reason: family.reason,
    ...(warning ? { warning } : {}),
    ...(failed ? { error: failed } : {}),
  };
}
