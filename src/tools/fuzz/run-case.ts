/**
 * One fuzz case through the whole CPU load path, as the engine takes a file: open, config, tensor
 * check, dequantize (loadReferenceModelData), tokenizer, chat template, one forward step. The
 * outcome is 'ok', the SparseScopeError code, or 'untyped' (anything else: a defect).
 */
import { isSparseScopeError } from '../../errors.ts';
import { memorySource } from '../../gguf/test-fixtures.ts';
import { openGguf } from '../../gguf/reader.ts';
import { renderChatPrompt } from '../../model/chat-template.ts';
import { ReferenceModel } from '../../model/reference/forward.ts';
import { loadReferenceModelData } from '../../model/reference/weights.ts';
import { createTokenizer } from '../../model/tokenizer/index.ts';

export interface CaseOutcome {
  outcome: string;
  /** for untyped errors: the error's name and message */
  message?: string;
}

export async function runCase(bytes: Uint8Array): Promise<CaseOutcome> {
  try {
    const file = await openGguf({ kind: 'bytes', source: memorySource(bytes, 'fuzz.gguf') });
    try {
      const { config, weights } = await loadReferenceModelData(file);
      const tok = createTokenizer(file.metadata);
      const ids = tok.encode('In the beginning', { parseSpecial: false });
      tok.decode(ids, { special: true });
      const template = file.metadata['tokenizer.chat_template'];
      renderChatPrompt(typeof template === 'string' ? template : undefined, [{ role: 'user', content: 'Hi' }]);
      const first = tok.bos ?? ids[0] ?? 0;
      new ReferenceModel(config, weights).session().step(first);
      return { outcome: 'ok' };
    } finally {
      await file.close();
    }
  } catch (e) {
    if (isSparseScopeError(e)) return { outcome: e.code };
    return { outcome: 'untyped', message: e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 300) : String(e) };
  }
}
