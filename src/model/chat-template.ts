import { isSparseScopeError } from '../errors.ts';
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
}

/** The BOS/EOS texts a template sees, from the file's tokenizer. */
export function specialTokenTexts(tok: Pick<Tokenizer, 'bos' | 'eos' | 'tokenText'>): Pick<ChatPromptOptions, 'bosToken' | 'eosToken'> {
  return { bosToken: tok.bos === null ? undefined : tok.tokenText(tok.bos), eosToken: tok.eos === null ? undefined : tok.tokenText(tok.eos) };
}

export interface ChatPrompt {
  text: string;
  /** 'file' when the GGUF's own template rendered it, 'fallback' otherwise. */
  source: 'file' | 'fallback';
  /** Why the file's template was not used, for the UI to show; absent when it was. */
  warning?: string;
  /** The typed error of a template that failed or ran past its bounds (template-sandbox.ts). */
  error?: { code: string; message: string };
}

/**
 * Render the conversation with the file's `tokenizer.chat_template` (Jinja, as Hugging Face runs it).
 * The text usually starts with the BOS token's text, so encode it with parseSpecial and without
 * addSpecial. Without a template, or when the template does not parse or throws, we use a plain
 * fallback instead of failing the chat:
 *
 *   System: <system text>\n\nUser: <text>\nAssistant: <text>\nUser: <text>\nAssistant:
 *
 * (BOS first when given). It is readable by any base model and obviously not the model's own format,
 * which is why a warning comes with it.
 */
export function renderChatPrompt(template: string | undefined, messages: readonly ChatMessage[], options: ChatPromptOptions = {}): ChatPrompt {
  const { addGenerationPrompt = true, bosToken = '', eosToken = '' } = options;
  if (!template) {
    return { text: fallbackPrompt(messages, addGenerationPrompt, bosToken), source: 'fallback', warning: 'The model file has no chat template; using a plain "User:/Assistant:" format.' };
  }
  try {
    // the template is code from the file: run with bounds on steps, time and sizes
    const text = renderTemplateBounded(template, {
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: addGenerationPrompt,
      bos_token: bosToken,
      eos_token: eosToken,
    });
    return { text, source: 'file' };
  } catch (e) {
    const error = isSparseScopeError(e) ? { code: e.code, message: e.message } : { code: 'template', message: e instanceof Error ? e.message : String(e) };
    return {
      text: fallbackPrompt(messages, addGenerationPrompt, bosToken),
      source: 'fallback',
      warning: `The model's chat template failed (${error.message}); using a plain "User:/Assistant:" format.`,
      error,
    };
  }
}

const LABEL: Record<string, string> = { system: 'System', user: 'User', assistant: 'Assistant' };

function fallbackPrompt(messages: readonly ChatMessage[], addGenerationPrompt: boolean, bos: string): string {
  let out = bos;
  for (const m of messages) {
    const label = LABEL[m.role] ?? m.role.charAt(0).toUpperCase() + m.role.slice(1);
    out += m.role === 'system' ? `${label}: ${m.content}\n\n` : `${label}: ${m.content}\n`;
  }
  if (addGenerationPrompt) out += 'Assistant:';
  return out;
}
