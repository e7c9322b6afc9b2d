/**
 * One fuzz case through the WebGPU load path, as the engine's Worker takes a file: open, WebGpuModel.load
 * (config, tensor check, non-finite scan and upload) and one forward step. The outcome is 'ok', the
 * SparseScopeError code, 'untyped' (any other error: a defect), 'hang' (no answer within the watchdog)
 * or 'gpu-error' (the device reported a validation/out-of-memory error or was lost: the checks before
 * upload let through something the GPU refused).
 */
import { isSparseScopeError } from '../../errors.ts';
import { memorySource } from '../../gguf/test-fixtures.ts';
import { openGguf } from '../../gguf/reader.ts';
import { WebGpuModel } from '../../engine/webgpu/webgpu-model.ts';
import type { GpuContext, GpuEvent } from '../../gpu/device.ts';
import type { CaseOutcome } from './run-case.ts';

/** Cache rows: one step needs one; a few keep the kernels' shapes ordinary. */
const CONTEXT = 8;

async function loadAndStep(ctx: GpuContext, bytes: Uint8Array): Promise<CaseOutcome> {
  try {
    const file = await openGguf({ kind: 'bytes', source: memorySource(bytes, 'fuzz.gguf') });
    try {
      const model = await WebGpuModel.load(ctx, file, { contextSize: CONTEXT, prefillChunk: 4 });
      try {
        const { logits } = await model.session().feed([0]);
        if (logits.length !== 1 || logits[0].length !== model.config.vocab)
          return { outcome: 'untyped', message: `step gave ${logits.length} logits rows of ${logits[0]?.length}` };
        return { outcome: 'ok' };
      } finally {
        model.destroy();
      }
    } finally {
      await file.close();
    }
  } catch (e) {
    if (isSparseScopeError(e)) return { outcome: e.code };
    return { outcome: 'untyped', message: e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 300) : String(e) };
  }
}

export async function runGpuCase(ctx: GpuContext, bytes: Uint8Array, timeoutMs: number): Promise<CaseOutcome> {
  const events: GpuEvent[] = [];
  const off = ctx.on((e) => events.push(e));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const hang = new Promise<CaseOutcome>(
      (resolve) => (timer = setTimeout(() => resolve({ outcome: 'hang', message: `no answer in ${timeoutMs} ms` }), timeoutMs)),
    );
    const r = await Promise.race([loadAndStep(ctx, bytes), hang]);
    // Errors the device reports asynchronously arrive after the work that caused them has been submitted.
    await ctx.device.queue.onSubmittedWorkDone();
    if (events.length || ctx.isLost)
      return {
        outcome: 'gpu-error',
        message:
          events
            .map((e) => e.message)
            .join('; ')
            .slice(0, 300) || 'device lost',
      };
    return r;
  } finally {
    clearTimeout(timer);
    off();
  }
}
