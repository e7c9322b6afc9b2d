/** What every chat format shares: the names the UI, CLI and engine report, and a renderer's shape. */

/** Which format rendered a prompt: the file's own Jinja template, or a family's format written here. */
export type ChatFormatName = 'file' | FamilyFormatName;
export type FamilyFormatName = 'deepseek-v3' | 'deepseek-v3.1' | 'deepseek-v3.2' | 'deepseek-v2' | 'fallback';

export interface FormatMessage {
  role: string;
  content: string;
}

export interface FormatOptions {
  /** End with the opening of an assistant turn, so the model answers. */
  addGenerationPrompt: boolean;
  /** Thinking mode: the assistant turn opens with `<think>` (formats without one ignore it). */
  thinking: boolean;
  /** The file's BOS text, for the generic fallback (DeepSeek's formats write their own). */
  bosToken: string;
}

export interface ChatFormat {
  name: FamilyFormatName;
  /** A person's name for it, for the CLI and the page. */
  label: string;
  /** The format has a thinking and a non-thinking generation prompt. */
  thinking: boolean;
  render(messages: readonly FormatMessage[], options: FormatOptions): string;
}

// DeepSeek's control tokens, as its tokenizers and encoders spell them (fullwidth bars, ▁ for spaces)
export const DS_BOS = '<｜begin▁of▁sentence｜>';
export const DS_EOS = '<｜end▁of▁sentence｜>';
export const DS_USER = '<｜User｜>';
export const DS_ASSISTANT = '<｜Assistant｜>';
