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
  /** The newest load not yet installed: a newer load cancels it. */
  private pending: AbortController | undefined;

  /**
   * Loads run one after another, so the model installed last is the one asked for last; the new model is
   * loaded before the old one is dropped, so a bad file leaves the current model working. A load that a
   * newer one supersedes before it is installed is cancelled (it rejects with 'aborted', between tensors
   * of its upload), so the newest model does not wait for one nobody wants any more.
   */
  protected queueLoad(open: (signal: AbortSignal) => Promise<ModelRuntime>): Promise<ModelSummary> {
    this.pending?.abort();
    const ctl = new AbortController();
    this.pending = ctl;
    const superseded = () => new SparseScopeError('aborted', 'model load cancelled: a newer load was asked for');
    const run = this.loads.then(async () => {
      if (ctl.signal.aborted) throw superseded();
      const runtime = await open(ctl.signal);
      if (ctl.signal.aborted) {
        runtime.destroy();
        throw superseded();
      }
      if (this.pending === ctl) this.pending = undefined;
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
