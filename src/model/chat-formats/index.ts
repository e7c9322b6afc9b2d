/** Chat formats of the model families we know, written as their own encoders render them. */
export { deepseekV2 } from './deepseek-v2.ts';
export { deepseekV3 } from './deepseek-v3.ts';
export { deepseekV31 } from './deepseek-v31.ts';
export { deepseekV32 } from './deepseek-v32.ts';
export { detectChatFamily, type FamilyDetection, type VocabSigns } from './detect.ts';
export { fallbackFormat } from './fallback.ts';
export { promptOpensThinking, splitReasoning, withoutReasoning, THINK_CLOSE, THINK_OPEN, type ReasoningSplit } from './reasoning.ts';
export type { ChatFormat, ChatFormatName, FamilyFormatName, FormatMessage, FormatOptions } from './types.ts';
