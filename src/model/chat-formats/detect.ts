/**
 * Which family's chat format a file's vocabulary speaks, for files without a (working) chat template.
 * The signs, strongest first: the architecture (deepseek32 is DeepSeek-V3.2's), the model's name, the
 * control tokens in the vocabulary (`<｜User｜>`/`<｜Assistant｜>` are DeepSeek-V3's, `<think>` came with
 * R1/V3.1) and the pre-tokenizer (`deepseek-llm` is DeepSeek-LLM/V2's, `deepseek-v3` V3's).
 * `guess` is true when the signs are indirect, and then the page and CLI warn.
 */
import { deepseekV2 } from './deepseek-v2.ts';
import { deepseekV3 } from './deepseek-v3.ts';
import { deepseekV31 } from './deepseek-v31.ts';
import { deepseekV32 } from './deepseek-v32.ts';
import { fallbackFormat } from './fallback.ts';
import { THINK_CLOSE, THINK_OPEN } from './reasoning.ts';
import { DS_ASSISTANT, DS_BOS, DS_EOS, DS_USER, type ChatFormat } from './types.ts';

export interface VocabSigns {
  /** general.architecture */
  arch?: string;
  /** general.name (or basename) */
  name?: string;
  /** tokenizer.ggml.pre */
  preTokenizer?: string | null;
  /** Whether the text is one token of the vocabulary. */
  hasToken(text: string): boolean;
}

export interface FamilyDetection {
  format: ChatFormat;
  /** What it was recognised from, for the CLI and the page. */
  reason: string;
  /** The signs were indirect: say so with a warning. */
  guess: boolean;
}

export function detectChatFamily(s: VocabSigns): FamilyDetection {
  const name = (s.name ?? '').toLowerCase();
  const roles = s.hasToken(DS_USER) && s.hasToken(DS_ASSISTANT);
  const think = s.hasToken(THINK_OPEN) && s.hasToken(THINK_CLOSE);
  const dsSentence = s.hasToken(DS_BOS) && s.hasToken(DS_EOS);
  const lacking = roles ? '' : `; the vocabulary lacks ${DS_USER}/${DS_ASSISTANT}, so they encode as plain text`;

  if (s.arch === 'deepseek32' || /v3\.2/.test(name)) {
    const why = s.arch === 'deepseek32' ? 'architecture deepseek32' : `name "${s.name}"`;
    return { format: deepseekV32, reason: why + lacking, guess: !roles };
  }
  if (roles) {
    if (/v3\.1|terminus/.test(name)) return { format: deepseekV31, reason: `${DS_USER}/${DS_ASSISTANT} tokens and name "${s.name}"`, guess: false };
    if (think && !/\br1\b/.test(name))
      return {
        format: deepseekV31,
        reason: `${DS_USER}/${DS_ASSISTANT} and ${THINK_OPEN}/${THINK_CLOSE} tokens (V3.1's vocabulary; V3 has no ${THINK_OPEN} token)`,
        guess: true,
      };
    return { format: deepseekV3, reason: `${DS_USER}/${DS_ASSISTANT} tokens`, guess: think };
  }
  if (s.preTokenizer === 'deepseek-llm') return { format: deepseekV2, reason: 'pre-tokenizer deepseek-llm', guess: !dsSentence };
  if (s.preTokenizer === 'deepseek-v3') return { format: deepseekV3, reason: `pre-tokenizer deepseek-v3${lacking}`, guess: true };
  if (s.arch === 'deepseek2' && dsSentence)
    return { format: deepseekV2, reason: `architecture deepseek2 with DeepSeek's ${DS_BOS} and no ${DS_USER} token`, guess: true };
  return { format: fallbackFormat, reason: 'no DeepSeek family recognised in the vocabulary', guess: true };
}
