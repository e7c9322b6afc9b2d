/**
 * What the GPU engine (InProcessEngine) and the CPU engine (CpuEngine) share: one loaded ModelRuntime,
 * loads queued one after another, and the EngineApi calls that only forward to that runtime. Each
 * engine says how a runtime is made (on its device, or on the CPU) and may guard `loaded()` further.
 */
import { SparseScopeError } from '../errors.ts';
import type { ModelRuntime } from './model-runtime.ts';
import type { GenerateEvent, GenerateRequest, ModelSummary, StepRequest, StepResult, TokenTrace, TraceRequest } from '../api/protocol.ts';

export abstract class RuntimeEngine {
  protected runtime: ModelRuntime | undefined;
  private loads: Promise<unknown> = Promise.resolve();

  /**
   * Loads run one after another, so the model installed last is the one asked for last; the new model is
   * loaded before the old one is dropped, so a bad file leaves the current model working.
   */
  protected queueLoad(open: () => Promise<ModelRuntime>): Promise<ModelSummary> {
    const run = this.loads.then(async () => {
      const runtime = await open();
      this.runtime?.destroy();
      this.runtime = runtime;
      return runtime.summary;
    });
    this.loads = run.catch(() => undefined);
    return run;
  }

  protected loaded(): ModelRuntime {
    if (!this.runtime) throw new SparseScopeError('bad-argument', 'No model is loaded yet.');
    return this.runtime;
  }

  async generate(request: GenerateRequest, onEvent: (e: GenerateEvent) => void): Promise<void> {
    return this.loaded().generate(request, onEvent);
  }

  async abort(): Promise<void> {
    this.runtime?.abort();
  }

  async trace(prompt: string, request: TraceRequest, indexTopK?: number, oracleTopK?: number): Promise<TokenTrace[]> {
    return this.loaded().trace(prompt, request, indexTopK, oracleTopK);
  }

  async step(request: StepRequest): Promise<StepResult> {
    return this.loaded().step(request);
  }
}
